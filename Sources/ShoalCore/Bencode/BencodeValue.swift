/// A bencoded value (BEP 3): the four kinds the format has, nothing else.
///
/// Dictionary keys are byte strings; the canonical encoding sorts them as raw bytes.
public enum BencodeValue: Sendable, Hashable {
    case integer(Int64)
    case bytes([UInt8])
    case list([BencodeValue])
    case dictionary([[UInt8]: BencodeValue])

    /// A byte string holding the UTF-8 of `text`.
    public static func string(_ text: String) -> BencodeValue { .bytes(Array(text.utf8)) }

    /// A dictionary keyed by UTF-8 strings, the common case when building torrents and messages.
    public static func dict(_ entries: [String: BencodeValue]) -> BencodeValue {
        var result: [[UInt8]: BencodeValue] = [:]
        for (key, value) in entries { result[Array(key.utf8)] = value }
        return .dictionary(result)
    }

    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    public var bytes: [UInt8]? {
        if case .bytes(let value) = self { return value }
        return nil
    }

    /// The byte string decoded as UTF-8, if it is one.
    public var text: String? {
        guard case .bytes(let value) = self else { return nil }
        return String(validating: value, as: UTF8.self)
    }

    public var list: [BencodeValue]? {
        if case .list(let value) = self { return value }
        return nil
    }

    public var dictionary: [[UInt8]: BencodeValue]? {
        if case .dictionary(let value) = self { return value }
        return nil
    }

    public subscript(key: String) -> BencodeValue? {
        guard case .dictionary(let entries) = self else { return nil }
        return entries[Array(key.utf8)]
    }
}
