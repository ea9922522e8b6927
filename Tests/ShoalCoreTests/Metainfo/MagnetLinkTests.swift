import Testing
@testable import ShoalCore

@Suite("Magnet links")
struct MagnetLinkTests {
    let hex = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"

    @Test func parsesHexWithNameAndTrackers() throws {
        let link = try MagnetLink(parsing:
            "magnet:?xt=urn:btih:\(hex.uppercased())&dn=Some+File%20name&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce&tr=udp://127.0.0.1:1&x.pe=127.0.0.1:7000&so=0,2,4-6")
        #expect(link.infoHash.hex == hex)
        #expect(link.displayName == "Some File name")
        #expect(link.trackers == ["http://127.0.0.1:6969/announce", "udp://127.0.0.1:1"])
        #expect(link.peers == ["127.0.0.1:7000"])
        #expect(link.selectOnly == [0, 2, 4, 5, 6])
    }

    /// BEP 52 magnets: a hybrid's two hashes kept and written back; a v2-only magnet read; a
    /// v2-only torrent's link is btmh alone.
    @Test func v2HashesInMagnets() throws {
        let v2 = (0..<32).map { UInt8($0) }
        let btmh = "urn:btmh:1220" + Hex.encode(v2)
        let hybrid = try MagnetLink(parsing: "magnet:?xt=urn:btih:\(hex)&xt=\(btmh)&dn=x")
        #expect(hybrid.infoHash.hex == hex && hybrid.v2Hash == v2)
        #expect(try MagnetLink(parsing: hybrid.uri) == hybrid)
        #expect(hybrid.uri.contains("xt=urn:btih:\(hex)&xt=\(btmh)"))
        let v2Only = try MagnetLink(parsing: "magnet:?xt=\(btmh)")
        #expect(v2Only.infoHash.bytes == Array(v2.prefix(20)) && v2Only.v2Hash == v2 && v2Only.uri == "magnet:?xt=\(btmh)",
                "a v2-only magnet: known on the wire by its hash cut to 20 bytes")
        #expect(throws: MagnetLink.ParseError.self) { try MagnetLink(parsing: "magnet:?xt=urn:btih:\(hex)&xt=urn:btmh:1114abcd") }
        let only = MagnetLink(infoHash: InfoHash(bytes: v2.prefix(20))!, displayName: "y", v2Hash: v2)
        #expect(only.uri == "magnet:?xt=\(btmh)&dn=y")
    }

    @Test func parsesBase32() throws {
        let bytes = Hex.decode(hex)!
        let base32 = Base32.encode(bytes)
        #expect(base32.count == 32)
        let link = try MagnetLink(parsing: "magnet:?xt=urn:btih:\(base32)")
        #expect(link.infoHash.hex == hex)
    }

    @Test func formatsAndParsesBack() throws {
        let link = MagnetLink(infoHash: InfoHash(text: hex)!, displayName: "a & b = c", trackers: ["http://127.0.0.1/a?x=1&y=2"])
        let parsed = try MagnetLink(parsing: link.uri)
        #expect(parsed == link)
    }

    static let bad: [String] = [
        "http://example/", "magnet:?dn=x", "magnet:?xt=urn:btih:1234", "magnet:?xt=urn:btih:\(String(repeating: "g", count: 40))",
        "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=%zz", "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&so=3-1",
    ]

    @Test("rejects", arguments: bad)
    func rejects(text: String) {
        #expect(throws: MagnetLink.ParseError.self) { try MagnetLink(parsing: text) }
    }

    @Test func base32RoundTrips() {
        var rng = SeededRandom(seed: 9)
        for _ in 0..<100 {
            let bytes = (0..<20).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(Base32.decode(Base32.encode(bytes)) == bytes)
        }
    }
}
