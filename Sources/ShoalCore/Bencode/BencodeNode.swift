/// A decoded bencode value together with the byte range it occupied in the input.
///
/// The ranges let callers hash or forward the exact bytes they received — the info-hash is the
/// SHA-1 of the raw `info` bytes, never of a re-encoding.
public struct BencodeNode: Sendable {
    public enum Kind: Sendable {
        case integer(Int64)
        case bytes([UInt8])
        case list([BencodeNode])
        /// Entries in the order they appeared in the input.
        case dictionary([Entry])
    }

    public struct Entry: Sendable {
        public let key: [UInt8]
        public let value: BencodeNode
    }

    public let kind: Kind
    /// Offsets into the decoded buffer, `startIndex`-relative (0 is the first byte).
    public let range: Range<Int>

    /// The value without ranges.
    public var value: BencodeValue {
        switch kind {
        case .integer(let number): return .integer(number)
        case .bytes(let bytes): return .bytes(bytes)
        case .list(let items): return .list(items.map(\.value))
        case .dictionary(let entries):
            var result: [[UInt8]: BencodeValue] = [:]
            for entry in entries { result[entry.key] = entry.value.value }
            return .dictionary(result)
        }
    }

    public subscript(key: String) -> BencodeNode? {
        guard case .dictionary(let entries) = kind else { return nil }
        let wanted = Array(key.utf8)
        return entries.first(where: { $0.key == wanted })?.value
    }

    public var integer: Int64? {
        if case .integer(let value) = kind { return value }
        return nil
    }

    public var bytes: [UInt8]? {
        if case .bytes(let value) = kind { return value }
        return nil
    }

    public var list: [BencodeNode]? {
        if case .list(let value) = kind { return value }
        return nil
    }

    public var entries: [Entry]? {
        if case .dictionary(let value) = kind { return value }
        return nil
    }

    /// A short name for the kind, used in error messages.
    public var kindName: String {
        switch kind {
        case .integer: return "integer"
        case .bytes: return "byte string"
        case .list: return "list"
        case .dictionary: return "dictionary"
        }
    }
}
