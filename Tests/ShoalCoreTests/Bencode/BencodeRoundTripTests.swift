import Testing
@testable import ShoalCore

@Suite("Bencode round trip")
struct BencodeRoundTripTests {
    /// A random value with bounded depth and width.
    static func randomValue(_ rng: inout SeededRandom, depth: Int = 0) -> BencodeValue {
        let kind = depth >= 4 ? Int.random(in: 0...1, using: &rng) : Int.random(in: 0...3, using: &rng)
        switch kind {
        case 0:
            let choices: [Int64] = [0, 1, -1, .max, .min, Int64.random(in: -1_000_000...1_000_000, using: &rng)]
            return .integer(choices.randomElement(using: &rng)!)
        case 1:
            return .bytes((0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        case 2:
            return .list((0..<Int.random(in: 0...5, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            var entries: [[UInt8]: BencodeValue] = [:]
            for _ in 0..<Int.random(in: 0...5, using: &rng) {
                let key = (0..<Int.random(in: 0...6, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                entries[key] = randomValue(&rng, depth: depth + 1)
            }
            return .dictionary(entries)
        }
    }

    @Test("decode(encode(v)) == v and encode(decode(b)) == b", arguments: 0..<8)
    func roundTrip(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        for _ in 0..<250 {
            let value = Self.randomValue(&rng)
            let encoded = BencodeEncoder.encode(value)
            let decoded = try BencodeDecoder.decode(encoded)
            #expect(decoded.value == value)
            #expect(BencodeEncoder.encode(decoded.value) == encoded)
        }
    }

    @Test func encoderSortsKeysAsRawBytes() {
        let value = BencodeValue.dictionary([[0xFF]: .integer(1), [0x41, 0x41]: .integer(2), [0x41]: .integer(3)])
        #expect(BencodeEncoder.encode(value) == Array(ascii: "d1:Ai3e2:AAi2e1:") + [0xFF] + Array(ascii: "i1ee"))
    }

    @Test("no prefix of a canonical encoding decodes", arguments: 0..<4)
    func truncationIsAlwaysAnError(seed: UInt64) {
        var rng = SeededRandom(seed: seed + 100)
        for _ in 0..<50 {
            let encoded = BencodeEncoder.encode(Self.randomValue(&rng))
            for cut in 0..<encoded.count {
                #expect(throws: BencodeError.self) { try BencodeDecoder.decode(Array(encoded[0..<cut])) }
            }
        }
    }
}
