import NIOCore
import ShoalCore
import ShoalTracker
import Testing

/// IPv6 askers get IPv6 peers: in `peers6` over HTTP (BEP 7), as 18-byte entries over UDP
/// (BEP 15); IPv4 ones keep their 6-byte `peers`; a dual-stack listener's IPv4-mapped
/// addresses count as IPv4.
@Suite("Tracker over IPv6")
struct TrackerIPv6Tests {
    static let hash = InfoHash(bytes: [UInt8](repeating: 9, count: 20))!

    static func query(_ id: String, port: Int, left: Int = 0) -> String {
        "/announce?info_hash=\(String(repeating: "%09", count: 20))&peer_id=\(id)&port=\(port)&left=\(left)&event=started"
    }

    @Test func httpRepliesCarryPeers6() async throws {
        let server = try await TrackerServer.start(bind: "127.0.0.1", httpPort: 0, interval: 30)
        _ = server.respond(to: Self.query("-SH0100-aaaaaaaaaaaa", port: 7001), remoteHost: "::1")
        _ = server.respond(to: Self.query("-SH0100-bbbbbbbbbbbb", port: 7002), remoteHost: "::ffff:127.0.0.2")
        let (_, _, body) = server.respond(to: Self.query("-SH0100-cccccccccccc", port: 7003, left: 5), remoteHost: "::1")
        let response = try AnnounceResponse(httpBody: body)
        #expect(Set(response.peers) == [PeerAddress(host: "::1", port: 7001), PeerAddress(host: "127.0.0.2", port: 7002)])
        let root = try BencodeDecoder.decode(body).value
        #expect(root["peers6"]?.bytes?.count == 18, "the IPv6 peer in peers6")
        #expect(root["peers"]?.bytes?.count == 6, "the mapped one as IPv4 in peers")
        await server.shutdown()
    }

    @Test func udpAnswersEachFamilyWithItsOwn() async throws {
        let server = try await TrackerServer.start(bind: "127.0.0.1", httpPort: 0, udpPort: 0, interval: 60)
        func announce(from remote: SocketAddress, id: String, port: UInt16, left: Int64) throws -> [PeerAddress] {
            let connectReply = try #require(server.respondUDP(to: UDPTrackerPacket.encode(.connect(transactionID: 1)), from: remote))
            guard case .connect(_, let connection) = try UDPTrackerPacket.parseResponse(connectReply) else { return [] }
            let request = AnnounceRequest(infoHash: Self.hash, peerID: PeerID(bytes: Array(id.utf8))!, port: port, left: left, event: .started)
            let packet = UDPTrackerPacket.encode(.announce(UDPTrackerPacket.Announce(connectionID: connection, transactionID: 2, request: request)))
            let reply = try #require(server.respondUDP(to: packet, from: remote))
            guard case .announce(_, _, _, _, let peers) = try UDPTrackerPacket.parseResponse(reply, ipv6: remote.protocol == .inet6) else {
                Issue.record("no announce reply")
                return []
            }
            return peers
        }
        _ = try announce(from: try SocketAddress(ipAddress: "::1", port: 40001), id: "-SH0100-aaaaaaaaaaaa", port: 7001, left: 0)
        _ = try announce(from: try SocketAddress(ipAddress: "127.0.0.1", port: 40002), id: "-SH0100-bbbbbbbbbbbb", port: 7002, left: 0)
        let six = try announce(from: try SocketAddress(ipAddress: "::1", port: 40003), id: "-SH0100-cccccccccccc", port: 7003, left: 9)
        #expect(six == [PeerAddress(host: "::1", port: 7001)])
        let four = try announce(from: try SocketAddress(ipAddress: "127.0.0.1", port: 40004), id: "-SH0100-dddddddddddd", port: 7004, left: 9)
        #expect(four == [PeerAddress(host: "127.0.0.1", port: 7002)])
        await server.shutdown()
    }

    @Test func udpPeerEntriesRoundTrip() throws {
        let peers = [PeerAddress(host: "2001:db8::7", port: 51413), PeerAddress(host: "::1", port: 6881)]
        let bytes = UDPTrackerPacket.encode(.announce(transactionID: 3, interval: 60, leechers: 1, seeders: 2, peers: peers))
        #expect(bytes.count == 20 + 2 * 18)
        guard case .announce(3, 60, 1, 2, let parsed) = try UDPTrackerPacket.parseResponse(bytes, ipv6: true) else {
            Issue.record("did not parse")
            return
        }
        #expect(parsed == peers)
    }
}
