import ShoalCore
import ShoalTestSupport
import Testing

@Suite("JSON")
struct JSONTests {
    @Test func parsesWhatTransmissionRemotesSend() throws {
        let text = #"{"method":"torrent-get","arguments":{"fields":["id","name"],"ids":[1,"0123456789abcdef0123456789abcdef01234567"]},"tag":7}"#
        let value = try JSONParser.parse(text)
        #expect(value["method"]?.string == "torrent-get")
        #expect(value["tag"]?.int == 7)
        #expect(value["arguments"]?["fields"]?.array == ["id", "name"])
        #expect(value["arguments"]?["ids"]?.array?.first?.int == 1)
    }

    @Test func numbersLiteralsAndEscapes() throws {
        #expect(try JSONParser.parse("-12.5e1") == .number(-125))
        #expect(try JSONParser.parse(" [true, false, null] ") == [true, false, nil])
        #expect(try JSONParser.parse(#""a\"b\\c\/d\n\u00e9\ud83d\ude00""#) == .string("a\"b\\c/d\né😀"))
        // A lone surrogate is replaced, not a crash.
        #expect(try JSONParser.parse(#""\ud800x""#) == .string("\u{FFFD}x"))
    }

    @Test func refusesMalformedInputWithItsOffset() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "tru", "01x", "\"abc", "{\"a\":1}}", "\"\u{01}\"", "1e999", "[\"\\x\"]", "-"] {
            #expect(throws: JSONParser.Failure.self, "\(bad)") { try JSONParser.parse(bad) }
        }
        do {
            _ = try JSONParser.parse("[1, 2, ?]")
            Issue.record("parsed")
        } catch {
            #expect(error.offset == 7)
        }
    }

    /// A hostile `[[[[…` is refused at the depth bound instead of exhausting the stack.
    @Test func deepNestingIsBounded() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(try JSONParser.parse(fine) != .null)
    }

    @Test func writesIntegersWithoutFractionsAndEscapesControls() {
        #expect(JSONWriter.string(["b": 1, "a": [1.5, "x\"\n\u{01}", nil, true]]) == #"{"a":[1.5,"x\"\n\u0001",null,true],"b":1}"#)
        #expect(JSONWriter.string(.number(3_000_000_000)) == "3000000000")
        #expect(JSONWriter.string(.number(.infinity)) == "null")
    }

    /// Whatever is written parses back to the same value.
    @Test func roundTrips() throws {
        var random = SeededRandom(seed: 42)
        for _ in 0..<300 {
            let value = Self.randomValue(&random, depth: 0)
            #expect(try JSONParser.parse(JSONWriter.bytes(value)) == value)
        }
    }

    static func randomValue(_ random: inout SeededRandom, depth: Int) -> JSONValue {
        switch random.next() % (depth > 3 ? 4 : 6) {
        case 0: return .bool(random.next() % 2 == 0)
        case 1: return .number(Double(Int64(bitPattern: random.next()) % 1_000_000_000_000))
        case 2:
            let scalars = (0..<Int(random.next() % 12)).map { _ in Character(Unicode.Scalar(UInt32(random.next() % 0xD000))!) }
            return .string(String(scalars))
        case 3: return .null
        case 4: return .array((0..<Int(random.next() % 5)).map { _ in randomValue(&random, depth: depth + 1) })
        default:
            var members: [String: JSONValue] = [:]
            for index in 0..<Int(random.next() % 5) { members["k\(index)"] = randomValue(&random, depth: depth + 1) }
            return .object(members)
        }
    }
}
