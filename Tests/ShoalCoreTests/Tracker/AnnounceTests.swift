import Testing
@testable import ShoalCore

@Suite("Tracker messages")
struct AnnounceTests {
    let hash = InfoHash(bytes: [0x00, 0x20, 0x7F, 0xFF] + [UInt8](repeating: 0x41, count: 16))!
    let id = PeerID(bytes: Array("-SH0100-abcdefghijkl".utf8))!

    @Test func announceURLPercentEncodesBinary() {
        let request = AnnounceRequest(infoHash: hash, peerID: id, port: 6881, uploaded: 1, downloaded: 2, left: 3,
                                      event: .started, numwant: 50, key: 255)
        let url = request.url(announce: "http://127.0.0.1:6969/announce")
        #expect(url.hasPrefix("http://127.0.0.1:6969/announce?info_hash=%00%20%7F%FFAAAAAAAAAAAAAAAA&peer_id=-SH0100-abcdefghijkl"))
        #expect(url.contains("&port=6881&uploaded=1&downloaded=2&left=3&compact=1&numwant=50&key=ff&event=started"))
        #expect(request.url(announce: "http://t/a?passkey=x").contains("/a?passkey=x&info_hash="))
    }

    @Test func parsesCompactPeers() throws {
        let body = BencodeEncoder.encode(.dict([
            "interval": .integer(900), "min interval": .integer(60), "complete": .integer(3), "incomplete": .integer(4),
            "peers": .bytes([127, 0, 0, 1, 0x1A, 0xE1, 10, 0, 0, 2, 0, 80]),
            "peers6": .bytes([UInt8](repeating: 0, count: 15) + [1, 0x1F, 0x90]),
            "warning message": .string("careful"),
        ]))
        let response = try AnnounceResponse(httpBody: body)
        #expect(response.peers == [PeerAddress(host: "127.0.0.1", port: 6881), PeerAddress(host: "10.0.0.2", port: 80),
                                   PeerAddress(host: "::1", port: 8080)])
        #expect(response.interval == 900 && response.minInterval == 60)
        #expect(response.complete == 3 && response.incomplete == 4)
        #expect(response.warning == "careful")
    }

    @Test func parsesDictionaryPeers() throws {
        let body = BencodeEncoder.encode(.dict([
            "interval": .integer(10),
            "peers": .list([.dict(["ip": .string("127.0.0.1"), "port": .integer(7000), "peer id": .bytes(id.bytes)]),
                            .dict(["ip": .string("127.0.0.2"), "port": .integer(0)])]),
        ]))
        #expect(try AnnounceResponse(httpBody: body).peers == [PeerAddress(host: "127.0.0.1", port: 7000)])
    }

    @Test func reportsFailuresAndGarbage() {
        #expect(throws: AnnounceResponse.Failure.rejected("unregistered torrent")) {
            try AnnounceResponse(httpBody: BencodeEncoder.encode(.dict(["failure reason": .string("unregistered torrent")])))
        }
        #expect(throws: AnnounceResponse.Failure.self) { try AnnounceResponse(httpBody: Array("<html>502</html>".utf8)) }
        #expect(throws: AnnounceResponse.Failure.self) {
            try AnnounceResponse(httpBody: BencodeEncoder.encode(.dict(["interval": .integer(5), "peers": .bytes([1, 2, 3])])))
        }
    }

    @Test func peerAddressParsing() {
        #expect(PeerAddress(parsing: "127.0.0.1:6881") == PeerAddress(host: "127.0.0.1", port: 6881))
        #expect(PeerAddress(parsing: "[::1]:6881") == PeerAddress(host: "::1", port: 6881))
        #expect(PeerAddress(parsing: "127.0.0.1") == nil)
        #expect(PeerAddress(parsing: "127.0.0.1:0") == nil)
        #expect(PeerAddress(host: "127.0.0.1", port: 6881).compact == [127, 0, 0, 1, 0x1A, 0xE1])
    }
}

@Suite("Answers of several tiers as one")
struct MergedAnnounceTests {
    private func peer(_ port: UInt16) -> PeerAddress { PeerAddress(host: "127.0.0.1", port: port) }

    @Test func everyPeerOnceTheLongestIntervalsTheLargestCounts() throws {
        let a = AnnounceResponse(interval: 1_800, minInterval: 60, peers: [peer(1), peer(2)], complete: 3, incomplete: 9,
                                 trackerID: "a", warning: "busy")
        let b = AnnounceResponse(interval: 900, minInterval: 300, peers: [peer(2), peer(3)], complete: 7, incomplete: nil)
        let c = AnnounceResponse(interval: 2_400, peers: [])
        let merged = try #require(AnnounceResponse.merged([a, b, c]))
        #expect(merged.peers == [peer(1), peer(2), peer(3)])
        #expect(merged.interval == 2_400 && merged.minInterval == 300, "no tracker is asked sooner than it said")
        #expect(merged.complete == 7 && merged.incomplete == 9)
        #expect(merged.trackerID == nil && merged.warning == nil, "those stay with the tracker that sent them")
        #expect(AnnounceResponse.merged([]) == nil)
        #expect(AnnounceResponse.merged([b])?.minInterval == 300)
    }
}
