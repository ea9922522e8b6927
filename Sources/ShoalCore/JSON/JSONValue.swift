/// A JSON document as a value: what the remote-control RPC reads and writes.
///
/// Written by hand rather than through Foundation's JSONSerialization: that one returns `Any`
/// (not `Sendable`, numbers and booleans indistinguishable), recurses without a bound (a hostile
/// `[[[[…` body would exhaust the stack), and is several times slower at writing the large
/// `torrent-get` answers.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
    /// JSON text already written (by `JSONWriter`), spliced in as it is: a large answer's rows
    /// are written once, in their own field order, instead of built as values and then sorted.
    /// The parser never makes one.
    case raw([UInt8])

    public static func int<T: BinaryInteger>(_ value: T) -> JSONValue { .number(Double(value)) }

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var double: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// A whole number within Int's range (nil for 1.5, NaN or a string).
    public var int: Int? {
        guard case .number(let value) = self, value.rounded() == value, abs(value) < 9.0e15 else { return nil }
        return Int(value)
    }

    /// Transmission's remotes send booleans, and some older ones 0/1.
    public var bool: Bool? {
        switch self {
        case .bool(let flag): return flag
        case .number(let value): return value != 0
        default: return nil
        }
    }

    public var array: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    public var object: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}
