import Testing
import ShoalCore

@Suite("IPv6 addresses as text")
struct IPv6TextTests {
    @Test(arguments: [
        ("::1", "::1"), ("0:0:0:0:0:0:0:1", "::1"), ("::", "::"), ("fe80::1%eth0", "fe80::1"),
        ("2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"), ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:DB8::1", "2001:db8::1"), ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"), ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("::ffff:1.2.3.4", "::ffff:102:304"), ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
    ])
    func canonicalText(input: String, expected: String) throws {
        let bytes = try #require(IPv6Text.bytes(input))
        #expect(IPv6Text.text(bytes) == expected)
    }

    @Test(arguments: [":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "::1.2.3", "", "1.2.3.4", "1:2:3:4:5:6:7", "::g", "::1.2.3.256",
                      "1:2:3:4:5:6:7:8::"])
    func notAnAddress(_ input: String) {
        #expect(IPv6Text.bytes(input) == nil)
    }

    @Test func randomAddressesRoundTrip() {
        var random = SplitMix64(seed: 3)
        for _ in 0..<2000 {
            // Zero groups are common in real addresses: make them so here.
            let bytes = (0..<8).flatMap { _ -> [UInt8] in
                Bool.random(using: &random) ? [0, 0] : [UInt8.random(in: 0...255, using: &random), UInt8.random(in: 0...255, using: &random)]
            }
            #expect(IPv6Text.bytes(IPv6Text.text(bytes)) == bytes)
        }
    }

    @Test func peerAddressesHaveOneSpelling() {
        #expect(PeerAddress(host: "::ffff:127.0.0.1", port: 5).normalized == PeerAddress(host: "127.0.0.1", port: 5))
        #expect(PeerAddress(host: "0:0:0:0:0:0:0:1", port: 5).normalized.description == "[::1]:5")
        #expect(PeerAddress(host: "10.0.0.1", port: 5).normalized.description == "10.0.0.1:5")
        let compact = PeerAddress(host: "::1", port: 6881).compact6
        #expect(compact == [UInt8](repeating: 0, count: 15) + [1, 0x1A, 0xE1])
        #expect(PeerAddress.parseCompact6(compact!) == [PeerAddress(host: "::1", port: 6881)])
        let mapped = [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 10, 0, 0, 7, 0, 80]
        #expect(PeerAddress.parseCompact6(mapped) == [PeerAddress(host: "10.0.0.7", port: 80)])
    }
}
