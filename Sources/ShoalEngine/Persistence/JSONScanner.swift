import ShoalCore

/// A cursor over JSON text for the state directory's fast readers (`ResumeDataReader`,
/// `SessionFileReader`): they read the one shape Shoal writes, field by field, with no
/// intermediate values, and give up (nil) on anything else so the caller falls back to
/// `JSONDecoder`. Every reader here is a shortcut, never the only reader.
struct JSONScanner {
    private let bytes: [UInt8]
    private(set) var at = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool {
        mutating get {
            skipSpace()
            return at == bytes.count
        }
    }

    mutating func skipSpace() {
        while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 { at += 1 }
    }

    /// Takes `byte` (after any space) if it is next.
    mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard at < bytes.count, bytes[at] == byte else { return false }
        at += 1
        return true
    }

    mutating func takeWord(_ word: StaticString) -> Bool {
        skipSpace()
        let count = word.utf8CodeUnitCount
        guard at + count <= bytes.count else { return false }
        let matches = word.withUTF8Buffer { $0.elementsEqual(bytes[at..<at + count]) }
        if matches { at += count }
        return matches
    }

    /// The members of an object, each key handed to `member` with the cursor on its value;
    /// `member` returns false for a key it does not take. False when the object is not whole.
    mutating func object(_ member: (inout JSONScanner, Key) -> Bool) -> Bool {
        guard take(UInt8(ascii: "{")) else { return false }
        if take(UInt8(ascii: "}")) { return true }
        repeat {
            guard let key = key(), take(UInt8(ascii: ":")), member(&self, key) else { return false }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}"))
    }

    /// A member's name as its bytes: the keys Shoal writes have no escapes (one that does is
    /// left to the decoder), and no string is made for each of 1.4 million keys.
    struct Key {
        let bytes: ArraySlice<UInt8>

        static func == (key: Key, name: StaticString) -> Bool {
            name.utf8CodeUnitCount == key.bytes.count && name.withUTF8Buffer { key.bytes.elementsEqual($0) }
        }

        static func ~= (name: StaticString, key: Key) -> Bool { key == name }
    }

    private mutating func key() -> Key? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = at
        while at < bytes.count, bytes[at] != UInt8(ascii: "\""), bytes[at] != UInt8(ascii: "\\") { at += 1 }
        guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { return nil }
        at += 1
        return Key(bytes: bytes[start..<at - 1])
    }

    /// The items of an array, each read by `item` (false: give up).
    mutating func array(_ item: (inout JSONScanner) -> Bool) -> Bool {
        guard take(UInt8(ascii: "[")) else { return false }
        if take(UInt8(ascii: "]")) { return true }
        repeat {
            guard item(&self) else { return false }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]"))
    }

    /// The items of an array, each read by `item`; nil when one is not readable.
    mutating func list<Item>(_ item: (inout JSONScanner) -> Item?) -> [Item]? {
        var items: [Item] = []
        let whole = array { scanner in
            guard let value = item(&scanner) else { return false }
            items.append(value)
            return true
        }
        return whole ? items : nil
    }

    /// A string, escapes and all (the encoder writes `\/` in every path). The same text as the
    /// string before it is that string again: 100,000 records name one download directory.
    mutating func string() -> String? {
        skipSpace()
        let opening = at
        if let last, bytes[opening..<min(bytes.count, opening + last.raw.count)].elementsEqual(last.raw) {
            at += last.raw.count
            return last.text
        }
        guard let text = freshString() else { return nil }
        last = (bytes[opening..<at], text)
        return text
    }

    private var last: (raw: ArraySlice<UInt8>, text: String)?

    private mutating func freshString() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = at
        // Most strings have no escape: made straight from the bytes.
        while at < bytes.count, bytes[at] != UInt8(ascii: "\""), bytes[at] != UInt8(ascii: "\\") {
            guard bytes[at] >= 0x20 else { return nil }
            at += 1
        }
        guard at < bytes.count else { return nil }
        if bytes[at] == UInt8(ascii: "\"") {
            defer { at += 1 }
            return String(validating: bytes[start..<at], as: UTF8.self)
        }
        var out = Array(bytes[start..<at])
        while at < bytes.count {
            let byte = bytes[at]
            at += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(validating: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard at < bytes.count else { return nil }
                let escaped = bytes[at]
                at += 1
                if let byte = JSONParser.unescaped(escaped) {
                    out.append(byte)
                } else if escaped == UInt8(ascii: "u") {
                    // Rare in what Shoal writes (control characters only): a single scalar
                    // outside the surrogates, else the decoder decides.
                    guard let code = hex4(), let scalar = Unicode.Scalar(code) else { return nil }
                    out.append(contentsOf: String(Character(scalar)).utf8)
                } else {
                    return nil
                }
            case 0..<0x20: return nil
            default: out.append(byte)
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt32? {
        guard at + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[at..<at + 4] {
            guard let digit = Self.hexDigit(byte) else { return nil }
            value = value << 4 | UInt32(digit)
        }
        at += 4
        return value
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// An integer in JSON's form (no leading zeros, no fraction, no exponent) that fits Int64.
    mutating func integer() -> Int64? {
        skipSpace()
        let negative = at < bytes.count && bytes[at] == UInt8(ascii: "-")
        if negative { at += 1 }
        let start = at
        var value: Int64 = 0
        while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") {
            let digit = Int64(bytes[at] - UInt8(ascii: "0"))
            let (times, over1) = value.multipliedReportingOverflow(by: 10)
            let (sum, over2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
            guard !over1, !over2 else { return nil }
            value = sum
            at += 1
        }
        let digits = at - start
        guard digits > 0, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        // A fraction or an exponent is not an integer this reader takes.
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") || bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            return nil
        }
        return value
    }

    mutating func int() -> Int? { integer().flatMap { Int(exactly: $0) } }

    /// A number in JSON's grammar, read with correct rounding (`Double(String)`, as the
    /// decoder does, so a date read back is the date written).
    mutating func double() -> Double? {
        skipSpace()
        let start = at
        if at < bytes.count, bytes[at] == UInt8(ascii: "-") { at += 1 }
        let whole = at
        let count = digits()
        // "0" may only stand alone before the point.
        guard count > 0, count == 1 || bytes[whole] != UInt8(ascii: "0") else { return nil }
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            at += 1
            guard digits() > 0 else { return nil }
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            at += 1
            if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard digits() > 0 else { return nil }
        }
        guard let value = Double(String(decoding: bytes[start..<at], as: UTF8.self)), value.isFinite else { return nil }
        return value
    }

    private mutating func digits() -> Int {
        let start = at
        while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") { at += 1 }
        return at - start
    }

    mutating func bool() -> Bool? {
        if takeWord("true") { return true }
        if takeWord("false") { return false }
        return nil
    }

    /// `null`, taken if it is next: an optional field written as null is as good as absent.
    mutating func null() -> Bool { takeWord("null") }

    /// The bytes of the next value, whatever it is, for the decoder to read (a part of the
    /// file this reader does not read by hand). Strings are skipped whole, brackets balanced.
    mutating func rawValue() -> ArraySlice<UInt8>? {
        skipSpace()
        let start = at
        var depth = 0
        repeat {
            guard at < bytes.count else { return nil }
            switch bytes[at] {
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1; at += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard depth > 0 else { return nil }
                depth -= 1
                at += 1
            case UInt8(ascii: "\""):
                guard string() != nil else { return nil }
            case UInt8(ascii: ","), UInt8(ascii: ":"):
                guard depth > 0 else { return nil }
                at += 1
            default:
                at += 1
                // Scalars (numbers, words) end at a delimiter; checked by the decoder.
                while at < bytes.count, !Self.delimiters.contains(bytes[at]) { at += 1 }
            }
            skipSpace()
        } while depth > 0
        return at > start ? bytes[start..<at] : nil
    }

    private static let delimiters: Set<UInt8> = [
        UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "["), UInt8(ascii: "]"),
        UInt8(ascii: "\""), 0x20, 0x0A, 0x0D, 0x09,
    ]
}
