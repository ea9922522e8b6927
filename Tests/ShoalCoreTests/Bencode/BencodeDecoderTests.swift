import Testing
@testable import ShoalCore

@Suite("Bencode decoder")
struct BencodeDecoderTests {
    static let valid: [(String, BencodeValue)] = [
        ("i0e", .integer(0)),
        ("i42e", .integer(42)),
        ("i-7e", .integer(-7)),
        ("i9223372036854775807e", .integer(.max)),
        ("i-9223372036854775808e", .integer(.min)),
        ("0:", .bytes([])),
        ("4:spam", .string("spam")),
        ("le", .list([])),
        ("l4:spami3ee", .list([.string("spam"), .integer(3)])),
        ("de", .dictionary([:])),
        ("d3:cow3:moo4:spam4:eggse", .dict(["cow": .string("moo"), "spam": .string("eggs")])),
        ("d1:bi1e1:ai2ee", .dict(["a": .integer(2), "b": .integer(1)])),  // unsorted keys accepted
        ("lld1:xleeee", .list([.list([.dict(["x": .list([])])])])),
    ]

    @Test("accepts valid input", arguments: valid)
    func acceptsValid(input: String, expected: BencodeValue) throws {
        let node = try BencodeDecoder.decode(Array(ascii: input))
        #expect(node.value == expected)
        #expect(node.range == 0..<input.utf8.count)
    }

    static let invalid: [(String, BencodeError.Reason, Int)] = [
        ("", .unexpectedEnd, 0),
        ("i", .unexpectedEnd, 1),
        ("ie", .emptyInteger, 1),
        ("i-e", .emptyInteger, 1),
        ("i03e", .leadingZero, 1),
        ("i-0e", .negativeZero, 1),
        ("i-03e", .leadingZero, 2),
        ("i1x2e", .unexpectedByte(UInt8(ascii: "x")), 2),
        ("i9223372036854775808e", .integerOutOfRange, 1),
        ("i-9223372036854775809e", .integerOutOfRange, 1),
        ("i99999999999999999999999e", .integerOutOfRange, 1),
        ("5:abc", .lengthBeyondInput(5), 0),
        ("03:abc", .leadingZero, 0),
        ("3abc", .unexpectedByte(UInt8(ascii: "a")), 1),
        ("99999999999999999999999:a", .invalidLength, 0),
        ("l", .unexpectedEnd, 1),
        ("li1e", .unexpectedEnd, 4),
        ("d", .unexpectedEnd, 1),
        ("di1ei2ee", .nonStringKey, 1),
        ("dle", .nonStringKey, 1),
        ("d1:a", .unexpectedEnd, 4),
        ("d1:ai1e1:ai2ee", .duplicateKey, 7),
        ("i1ei2e", .trailingBytes(3), 3),
        ("4:spamX", .trailingBytes(1), 6),
        ("x", .unexpectedByte(UInt8(ascii: "x")), 0),
        ("e", .unexpectedByte(UInt8(ascii: "e")), 0),
        ("-1:a", .unexpectedByte(UInt8(ascii: "-")), 0),
    ]

    @Test("rejects invalid input with the reason and the offset", arguments: invalid)
    func rejectsInvalid(input: String, reason: BencodeError.Reason, offset: Int) {
        #expect(throws: BencodeError(reason, at: offset)) {
            try BencodeDecoder.decode(Array(ascii: input))
        }
    }

    @Test func nestingDepthIsLimited() {
        let decoder = BencodeDecoder(limits: .init(maxDepth: 3, maxInputSize: 1 << 20))
        #expect(throws: Never.self) { try decoder.decode(Array(ascii: "llleee")) }
        #expect(throws: BencodeError(.tooDeep(limit: 3), at: 3)) { try decoder.decode(Array(ascii: "lllleeee")) }
        // The default limit stops a deep bomb long before the stack does.
        let bomb = [UInt8](repeating: UInt8(ascii: "l"), count: 100_000)
        #expect(throws: BencodeError.self) { try BencodeDecoder.decode(bomb) }
    }

    @Test func inputSizeIsLimited() {
        let decoder = BencodeDecoder(limits: .init(maxDepth: 8, maxInputSize: 10))
        #expect(throws: BencodeError(.tooLarge(limit: 10), at: 0)) { try decoder.decode(Array(ascii: "11:hello world")) }
    }

    @Test func recordsTheRangeOfEveryValue() throws {
        let input = Array(ascii: "d4:infod6:lengthi5ee4:listli1e2:abee")
        let root = try BencodeDecoder.decode(input)
        let info = try #require(root["info"])
        #expect(String(decoding: input[info.range], as: UTF8.self) == "d6:lengthi5ee")
        let list = try #require(root["list"]?.list)
        #expect(list.map(\.range) == [27..<30, 30..<34])
    }

    @Test func prefixDecodingReturnsWhereTheValueEnds() throws {
        let input = Array(ascii: "d8:msg_typei1ee") + [0xFF, 0x00]
        let (node, end) = try BencodeDecoder().decodePrefix(input)
        #expect(node["msg_type"]?.integer == 1)
        #expect(end == 15)
    }

    @Test func errorsReadAsASentenceWithTheOffset() {
        #expect(BencodeError(.leadingZero, at: 12).description == "number with a leading zero at byte 12")
        #expect(BencodeError(.unexpectedByte(0x00), at: 3).description == "unexpected byte 0x0 at byte 3")
    }
}
