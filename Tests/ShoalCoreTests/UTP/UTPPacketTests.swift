import ShoalCore
import Testing

/// The uTP packet codec (BEP 29): byte vectors, the extension chain, refusals, a round-trip
/// property, and sequence numbers that wrap.
@Suite("uTP packets")
struct UTPPacketTests {
    // A SYN: type 4, version 1, no extension, connection id 0x1234, timestamp 0x01020304,
    // difference 0, window 1 MiB, sequence 1, ack 0.
    static let syn: [UInt8] = [0x41, 0x00, 0x12, 0x34, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00,
                               0x00, 0x10, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00]

    @Test func aSynDecodesFieldByFieldAndEncodesBack() throws {
        let packet = try UTPPacket(decoding: Self.syn)
        #expect(packet == UTPPacket(kind: .syn, connectionID: 0x1234, timestamp: 0x0102_0304, window: 1 << 20, sequence: 1, ack: 0))
        #expect(packet.encoded() == Self.syn)
        #expect(UTPPacket.looksLikeUTP(Self.syn[0]) && !UTPPacket.looksLikeUTP(UInt8(ascii: "d")))
        #expect(UTPPacket.Kind.allCases.allSatisfy { UTPPacket.looksLikeUTP($0.rawValue << 4 | 1) })
    }

    /// A STATE with a selective ACK of 4 bytes (bits 0 and 9: packets ack+2 and ack+11), then a
    /// payload; an unknown extension before it is skipped.
    @Test func theExtensionChainCarriesASelectiveAckAndSkipsUnknownOnes() throws {
        var bytes: [UInt8] = [0x21, 0x07, 0xAB, 0xCD] + [UInt8](repeating: 0, count: 12) + [0xFF, 0xFE, 0x00, 0x09]
        bytes += [0x01, 0x03, 0xEE, 0xEE, 0xEE]  // extension 7 (unknown): next is 1, three bytes
        bytes += [0x00, 0x04, 0b0000_0001, 0b0000_0010, 0x00, 0x00]  // selective ACK, last
        bytes += [0x68, 0x69]  // payload "hi"
        let packet = try UTPPacket(decoding: bytes)
        #expect(packet.kind == .state && packet.connectionID == 0xABCD && packet.sequence == 0xFFFE && packet.ack == 9)
        #expect(packet.selectiveAck == [1, 2, 0, 0] && packet.payload == [0x68, 0x69])
        #expect(packet.selectivelyAcked == [11, 20])
        // Written back, the unknown extension is gone and the rest is the same.
        #expect(try UTPPacket(decoding: packet.encoded()) == packet)
        // libtorrent's one-byte selective ACK (BEP 29 asks for four; seen through the relay).
        let short = try UTPPacket(decoding: [0x21, 0x01, 0x91, 0x2D] + [UInt8](repeating: 0, count: 12) + [0x2C, 0xCC, 0x75, 0x5F]
                                  + [0x00, 0x01, 0b0000_0101])
        #expect(short.selectivelyAcked == [0x7561, 0x7563])
        // Bits past the wrap: ack 0xFFFF, bit 0 is packet 1.
        let wrapped = UTPPacket(kind: .state, connectionID: 1, sequence: 0, ack: 0xFFFF, selectiveAck: [1, 0, 0, 0x80])
        #expect(wrapped.selectivelyAcked == [1, 32])
    }

    static let malformed: [([UInt8], String)] = {
        let body = Array(syn.dropFirst(2))
        let withExtension: [UInt8] = [0x41, 0x01] + body
        var cases: [([UInt8], String)] = []
        cases.append((Array(syn.prefix(19)), "shorter than a uTP header"))
        cases.append(([0x42, 0x00] + body, "uTP version 2"))
        cases.append(([0x51, 0x00] + body, "unknown uTP packet type 5"))
        cases.append((withExtension, "extension header cut short"))
        cases.append((withExtension + [0x00, 0x08, 1, 2, 3], "cut short"))
        cases.append((withExtension + [0x00, 0x00], "an empty selective ACK"))
        let twice: [UInt8] = [0x01, 0x04, 1, 2, 3, 4, 0x00, 0x04, 1, 2, 3, 4]
        cases.append((withExtension + twice, "two selective ACKs"))
        return cases
    }()

    @Test(arguments: malformed)
    func malformedPacketsAreRefusedWithTheReason(_ bytes: [UInt8], _ reason: String) {
        #expect {
            try UTPPacket(decoding: bytes)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func randomPacketsSurviveTheRoundTrip() throws {
        var rng = SplitMix64(seed: 29)
        for _ in 0..<2_000 {
            let sack: [UInt8]? = Bool.random(using: &rng)
                ? (0..<(4 * Int.random(in: 1...8, using: &rng))).map { _ in UInt8.random(in: 0...255, using: &rng) } : nil
            let packet = UTPPacket(kind: UTPPacket.Kind.allCases.randomElement(using: &rng)!,
                                   connectionID: .random(in: 0...UInt16.max, using: &rng), timestamp: .random(in: 0...UInt32.max, using: &rng),
                                   timestampDifference: .random(in: 0...UInt32.max, using: &rng), window: .random(in: 0...UInt32.max, using: &rng),
                                   sequence: .random(in: 0...UInt16.max, using: &rng), ack: .random(in: 0...UInt16.max, using: &rng),
                                   selectiveAck: sack, payload: (0..<Int.random(in: 0...1_400, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            #expect(try UTPPacket(decoding: packet.encoded()) == packet)
        }
    }

    @Test func sequenceNumbersCompareAcrossTheWrap() {
        #expect(UTPSequence.precedes(0xFFFF, 0) && UTPSequence.precedes(0xFFF0, 5) && !UTPSequence.precedes(5, 0xFFF0))
        #expect(!UTPSequence.precedes(7, 7) && UTPSequence.precedes(1, 0x8000) && !UTPSequence.precedes(1, 0x8001))
        #expect(UTPSequence.distance(from: 0xFFFE, to: 3) == 5)
    }
}
