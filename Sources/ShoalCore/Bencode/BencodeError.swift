/// Why a bencoded buffer was rejected, and where.
public struct BencodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        case unexpectedEnd
        case unexpectedByte(UInt8)
        case emptyInteger
        case leadingZero
        case negativeZero
        case integerOutOfRange
        case invalidLength
        case lengthBeyondInput(Int)
        case nonStringKey
        case duplicateKey
        case tooDeep(limit: Int)
        case tooLarge(limit: Int)
        case trailingBytes(Int)
    }

    public let reason: Reason
    /// Byte offset in the input where the problem was found.
    public let offset: Int

    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        let what: String
        switch reason {
        case .unexpectedEnd: what = "unexpected end of data"
        case .unexpectedByte(let byte): what = "unexpected byte \(Self.show(byte))"
        case .emptyInteger: what = "empty integer"
        case .leadingZero: what = "number with a leading zero"
        case .negativeZero: what = "negative zero"
        case .integerOutOfRange: what = "integer out of the 64-bit range"
        case .invalidLength: what = "invalid byte-string length"
        case .lengthBeyondInput(let length): what = "byte string of \(length) bytes runs past the end of the data"
        case .nonStringKey: what = "dictionary key is not a byte string"
        case .duplicateKey: what = "duplicate dictionary key"
        case .tooDeep(let limit): what = "nesting deeper than \(limit) levels"
        case .tooLarge(let limit): what = "input larger than \(limit) bytes"
        case .trailingBytes(let count): what = "\(count) trailing bytes after the value"
        }
        return "\(what) at byte \(offset)"
    }

    private static func show(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(UnicodeScalar(byte)))'" }
        return "0x" + String(byte, radix: 16, uppercase: true)
    }
}
