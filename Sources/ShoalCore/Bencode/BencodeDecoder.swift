/// A strict bencode decoder.
///
/// Rejects what BEP 3 forbids and what a hostile sender could use to waste memory: leading zeros,
/// `-0`, lengths past the input, non-string keys, duplicate keys, deep nesting and trailing bytes.
/// Keys need not be sorted: many real torrents have unsorted keys and every client accepts them.
public struct BencodeDecoder: Sendable {
    public struct Limits: Sendable {
        public var maxDepth: Int
        public var maxInputSize: Int

        public init(maxDepth: Int = 64, maxInputSize: Int = 64 << 20) {
            self.maxDepth = maxDepth
            self.maxInputSize = maxInputSize
        }
    }

    public let limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Decodes exactly one value spanning the whole input.
    public func decode(_ input: [UInt8]) throws(BencodeError) -> BencodeNode {
        let (node, end) = try decodePrefix(input)
        if end != input.count { throw BencodeError(.trailingBytes(input.count - end), at: end) }
        return node
    }

    /// Decodes one value at the start of the input and returns where it ended, for formats that
    /// put raw bytes after a bencoded header (BEP 9 metadata pieces).
    public func decodePrefix(_ input: [UInt8]) throws(BencodeError) -> (node: BencodeNode, end: Int) {
        if input.count > limits.maxInputSize { throw BencodeError(.tooLarge(limit: limits.maxInputSize), at: 0) }
        var cursor = Cursor(buffer: input, maxDepth: limits.maxDepth)
        let node = try cursor.value(depth: 0)
        return (node, cursor.position)
    }

    public static func decode(_ input: [UInt8]) throws(BencodeError) -> BencodeNode {
        try BencodeDecoder().decode(input)
    }
}

private struct Cursor {
    let buffer: [UInt8]
    let maxDepth: Int
    var position = 0

    func peek() throws(BencodeError) -> UInt8 {
        guard position < buffer.count else { throw BencodeError(.unexpectedEnd, at: position) }
        return buffer[position]
    }

    mutating func value(depth: Int) throws(BencodeError) -> BencodeNode {
        let start = position
        let byte = try peek()
        switch byte {
        case UInt8(ascii: "i"):
            position += 1
            let number = try integer(terminator: UInt8(ascii: "e"))
            return BencodeNode(kind: .integer(number), range: start..<position)
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            let bytes = try byteString()
            return BencodeNode(kind: .bytes(bytes), range: start..<position)
        case UInt8(ascii: "l"):
            guard depth < maxDepth else { throw BencodeError(.tooDeep(limit: maxDepth), at: start) }
            position += 1
            var items: [BencodeNode] = []
            while try peek() != UInt8(ascii: "e") {
                items.append(try value(depth: depth + 1))
            }
            position += 1
            return BencodeNode(kind: .list(items), range: start..<position)
        case UInt8(ascii: "d"):
            guard depth < maxDepth else { throw BencodeError(.tooDeep(limit: maxDepth), at: start) }
            position += 1
            var entries: [BencodeNode.Entry] = []
            var seen = Set<[UInt8]>()
            while try peek() != UInt8(ascii: "e") {
                let keyStart = position
                let keyByte = try peek()
                guard keyByte >= UInt8(ascii: "0") && keyByte <= UInt8(ascii: "9") else {
                    throw BencodeError(.nonStringKey, at: keyStart)
                }
                let key = try byteString()
                guard seen.insert(key).inserted else { throw BencodeError(.duplicateKey, at: keyStart) }
                entries.append(BencodeNode.Entry(key: key, value: try value(depth: depth + 1)))
            }
            position += 1
            return BencodeNode(kind: .dictionary(entries), range: start..<position)
        default:
            throw BencodeError(.unexpectedByte(byte), at: start)
        }
    }

    /// Reads a decimal integer up to `terminator`, consuming the terminator.
    mutating func integer(terminator: UInt8) throws(BencodeError) -> Int64 {
        let start = position
        var negative = false
        if try peek() == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        let digitsStart = position
        var magnitude: UInt64 = 0
        while true {
            let byte = try peek()
            if byte == terminator { break }
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else {
                throw BencodeError(.unexpectedByte(byte), at: position)
            }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 { throw BencodeError(.integerOutOfRange, at: start) }
            magnitude = sum
            position += 1
        }
        let digitCount = position - digitsStart
        if digitCount == 0 { throw BencodeError(.emptyInteger, at: start) }
        if buffer[digitsStart] == UInt8(ascii: "0") {
            if digitCount > 1 { throw BencodeError(.leadingZero, at: digitsStart) }
            if negative { throw BencodeError(.negativeZero, at: start) }
        }
        position += 1  // terminator
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw BencodeError(.integerOutOfRange, at: start) }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw BencodeError(.integerOutOfRange, at: start) }
        return Int64(magnitude)
    }

    mutating func byteString() throws(BencodeError) -> [UInt8] {
        let start = position
        if try peek() == UInt8(ascii: "-") { throw BencodeError(.invalidLength, at: start) }
        let length: Int64
        do {
            length = try integer(terminator: UInt8(ascii: ":"))
        } catch let error where error.reason == .integerOutOfRange {
            throw BencodeError(.invalidLength, at: start)
        }
        let remaining = buffer.count - position
        guard length <= Int64(remaining) else {
            throw BencodeError(.lengthBeyondInput(Int(clamping: length)), at: start)
        }
        let bytes = Array(buffer[position..<position + Int(length)])
        position += Int(length)
        return bytes
    }
}
