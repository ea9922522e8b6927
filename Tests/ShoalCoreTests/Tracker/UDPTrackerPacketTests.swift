import Testing
@testable import ShoalCore

@Suite("UDP tracker packets (BEP 15)")
struct UDPTrackerPacketTests {
    let hash = InfoHash(bytes: [UInt8](repeating: 7, count: 20))!
    let id = PeerID(bytes: Array("-SH0100-abcdefghijkl".utf8))!

    @Test func connectRequestBytes() throws {
        let bytes = UDPTrackerPacket.encode(.connect(transactionID: 0xDEADBEEF))
        #expect(bytes == [0, 0, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80, 0, 0, 0, 0, 0xDE, 0xAD, 0xBE, 0xEF])
        #expect(try UDPTrackerPacket.parseRequest(bytes) == .connect(transactionID: 0xDEADBEEF))
    }

    @Test func announceRoundTrip() throws {
        let request = AnnounceRequest(infoHash: hash, peerID: id, port: 6881, uploaded: 3, downloaded: 2, left: 1,
                                      event: .completed, numwant: 50, key: 9)
        let announce = UDPTrackerPacket.Announce(connectionID: 42, transactionID: 7, request: request)
        let bytes = UDPTrackerPacket.encode(.announce(announce))
        #expect(bytes.count == 98)
        #expect(Array(bytes[80..<84]) == [0, 0, 0, 1], "completed is 1")
        #expect(try UDPTrackerPacket.parseRequest(bytes) == .announce(announce))
    }

    @Test func responsesRoundTrip() throws {
        let responses: [UDPTrackerPacket.Response] = [
            .connect(transactionID: 1, connectionID: 0x0102030405060708),
            .announce(transactionID: 2, interval: 1800, leechers: 3, seeders: 4,
                      peers: [PeerAddress(host: "127.0.0.1", port: 6881), PeerAddress(host: "127.0.0.2", port: 1)]),
            .scrape(transactionID: 3, counts: [ScrapeCounts(seeders: 1, completed: 2, leechers: 3),
                                                ScrapeCounts(seeders: 4, completed: 5, leechers: 6)]),
            .error(transactionID: 4, message: "go away"),
        ]
        for response in responses {
            #expect(try UDPTrackerPacket.parseResponse(UDPTrackerPacket.encode(response)) == response)
        }
    }

    static let badRequests: [[UInt8]] = [
        [], [1, 2, 3],
        [0, 0, 0x04, 0x17, 0x27, 0x10, 0x19, 0x81, 0, 0, 0, 0, 0, 0, 0, 1],  // wrong protocol id
        [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1],  // announce of 16 bytes
        [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 1, 2, 3],  // scrape with 3 hash bytes
        [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 1],  // unknown action
    ]

    @Test("rejects malformed requests", arguments: badRequests)
    func rejects(bytes: [UInt8]) {
        #expect(throws: UDPTrackerPacket.ParseError.self) { try UDPTrackerPacket.parseRequest(bytes) }
    }

    @Test("random bytes never crash either parser", arguments: 0..<3)
    func fuzz(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...120, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = try? UDPTrackerPacket.parseRequest(bytes)
            _ = try? UDPTrackerPacket.parseResponse(bytes)
        }
    }
}
