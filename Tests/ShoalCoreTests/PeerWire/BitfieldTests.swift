import Testing
@testable import ShoalCore

@Suite("Bitfield and peer ids")
struct BitfieldTests {
    @Test func wireLayoutIsHighBitFirst() {
        var bits = Bitfield(count: 10)
        bits.set(0)
        bits.set(9)
        #expect(bits.bytes == [0x80, 0x40])
        #expect(bits.setCount == 2)
        #expect(bits[9] && !bits[8])
        bits.clear(0)
        #expect(bits.bytes == [0x00, 0x40])
    }

    @Test func wireBitfieldsAreChecked() {
        #expect(Bitfield(bytes: [0xFF, 0xC0], count: 10) != nil)
        #expect(Bitfield(bytes: [0xFF, 0xE0], count: 10) == nil)  // spare bit set
        #expect(Bitfield(bytes: [0xFF], count: 10) == nil)  // too short
        #expect(Bitfield(bytes: [0xFF, 0, 0], count: 10) == nil)  // too long
        #expect(Bitfield(bytes: [0xFF, 0xC0], count: 10)?.isComplete == true)
    }

    @Test func peerIDsAreAzureusStyle() {
        let id = PeerID.generate()
        #expect(id.bytes.count == 20)
        #expect(id.bytes.starts(with: Array("-SH0100-".utf8)))
        #expect(id.clientName == "Shoal 0.1.0")
    }

    @Test("client names", arguments: [
        ("-LT2080-abcdefghijkl", "libtorrent 2.0.8"), ("-TR3000-abcdefghijkl", "Transmission 3.00"),
        ("-qB4500-abcdefghijkl", "qBittorrent 4.5.0"), ("A2-1-37-0-abcdefghij", "aria2 1.37.0"),
        ("M7-4-3--abcdefghijkl", "Mainline 7.4.3"), ("xxxxxxxxxxxxxxxxxxxx", "unknown"),
    ])
    func clientNames(id: String, name: String) {
        #expect(PeerID(bytes: Array(id.utf8))!.clientName == name)
    }
}
