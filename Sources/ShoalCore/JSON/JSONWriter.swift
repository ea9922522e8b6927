/// A `JSONValue` as compact UTF-8 JSON text. Whole numbers print without a fraction (remotes
/// parse ids and byte counts as integers); object members in sorted order, so output is stable.
public enum JSONWriter {
    public static func bytes(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        // Room for the pre-written parts up front: a 3 MB torrent list grown from 256 bytes
        // was copied some fifteen times, into fresh pages each time.
        out.reserveCapacity(256 + rawSize(value))
        write(value, into: &out)
        return out
    }

    /// The bytes of the `.raw` parts inside a value.
    static func rawSize(_ value: JSONValue) -> Int {
        switch value {
        case .raw(let bytes): bytes.count
        case .array(let items): items.reduce(0) { $0 + rawSize($1) }
        case .object(let members): members.values.reduce(0) { $0 + rawSize($1) }
        default: 0
        }
    }

    public static func string(_ value: JSONValue) -> String { String(decoding: bytes(value), as: UTF8.self) }

    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .raw(let text): out.append(contentsOf: text)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number): writeNumber(number, into: &out)
        case .string(let text): writeString(text, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(members[key]!, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// An object with its members in the order given (duplicates are the caller's business).
    public static func writeObject(_ members: [(String, JSONValue)], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (index, member) in members.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            writeString(member.0, into: &out)
            out.append(UInt8(ascii: ":"))
            write(member.1, into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    public static func writeNumber(_ number: Double, into out: inout [UInt8]) {
        // JSON has no NaN or infinity; Transmission sends -1 for "none" and so do we where it does.
        guard number.isFinite else {
            out.append(contentsOf: "null".utf8)
            return
        }
        if number.rounded() == number, abs(number) < 9.0e15 {
            out.append(contentsOf: String(Int64(number)).utf8)
        } else {
            out.append(contentsOf: "\(number)".utf8)
        }
    }

    public static func writeString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case 0x0A: out.append(contentsOf: "\\n".utf8)
            case 0x0D: out.append(contentsOf: "\\r".utf8)
            case 0x09: out.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
