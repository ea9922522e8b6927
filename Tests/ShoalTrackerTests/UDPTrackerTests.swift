import NIOCore
import ShoalCore
import ShoalTestSupport
import Testing
@testable import ShoalTracker

@Suite("UDP tracker server")
struct UDPTrackerTests {
    let client = try! SocketAddress(ipAddress: "127.0.0.1", port: 40000)
    let other = try! SocketAddress(ipAddress: "127.0.0.1", port: 40001)

    @Test func connectionIDsExpireAndCannotBeForged() {
        let start = ContinuousClock.now
        let ids = ConnectionIDs(origin: start)
        let id = ids.issue(for: "a", now: start + .seconds(10))
        #expect(ids.isValid(id, for: "a", now: start + .seconds(70)))
        #expect(!ids.isValid(id, for: "a", now: start + .seconds(125)), "older than two minutes")
        #expect(!ids.isValid(id, for: "b", now: start + .seconds(10)), "bound to the client's address")
        #expect(!ids.isValid(id ^ 1, for: "a", now: start + .seconds(10)))
        #expect(!ConnectionIDs(origin: start).isValid(id, for: "a", now: start + .seconds(10)), "another secret")
    }

    @Test func connectAnnounceScrape() async throws {
        let server = try await TrackerServer.start(bind: "127.0.0.1", httpPort: 0, udpPort: 0, interval: 60)
        let hash = InfoHash(bytes: [UInt8](repeating: 3, count: 20))!
        let id = PeerID(bytes: Array("-SH0100-abcdefghijkl".utf8))!
        let connectReply = try #require(server.respondUDP(to: UDPTrackerPacket.encode(.connect(transactionID: 5)), from: client))
        guard case .connect(5, let connection) = try UDPTrackerPacket.parseResponse(connectReply) else {
            Issue.record("no connect reply")
            return
        }
        let request = AnnounceRequest(infoHash: hash, peerID: id, port: 7000, left: 0, event: .started)
        let announce = UDPTrackerPacket.Announce(connectionID: connection, transactionID: 6, request: request)
        let reply = try UDPTrackerPacket.parseResponse(try #require(server.respondUDP(to: UDPTrackerPacket.encode(.announce(announce)), from: client)))
        guard case .announce(6, 60, 0, 1, let peers) = reply else {
            Issue.record("unexpected \(reply)")
            return
        }
        #expect(peers.isEmpty, "never itself")
        // The same id from another address is refused.
        let forged = try UDPTrackerPacket.parseResponse(try #require(server.respondUDP(to: UDPTrackerPacket.encode(.announce(announce)), from: other)))
        guard case .error(6, let message) = forged else {
            Issue.record("forged id accepted")
            return
        }
        #expect(message.contains("connection id"))
        let scrape = try UDPTrackerPacket.parseResponse(try #require(
            server.respondUDP(to: UDPTrackerPacket.encode(.scrape(connectionID: connection, transactionID: 8, hashes: [hash])), from: client)))
        guard case .scrape(8, let counts) = scrape else {
            Issue.record("no scrape reply")
            return
        }
        #expect(counts.first?.seeders == 1 && counts.first?.leechers == 0)
        await server.shutdown()
    }

    /// A UDP port in use is refused to a second tracker, as a TCP one is: with SO_REUSEADDR
    /// Linux let both bind it and sent each datagram to one of them.
    @Test func aUDPPortInUseIsRefused() async throws {
        let server = try await TrackerServer.start(bind: "127.0.0.1", httpPort: 0, udpPort: 0, interval: 60)
        let port = try #require(server.udpPort)
        await #expect(throws: (any Error).self) {
            let second = try await TrackerServer.start(bind: "127.0.0.1", httpPort: 0, udpPort: port, interval: 60)
            await second.shutdown()
        }
        await server.shutdown()
    }

    @Test func garbageIsDroppedOrAnsweredWithAnError() async throws {
        let server = try await TrackerServer.start(bind: "127.0.0.1", httpPort: 0, udpPort: 0, interval: 60)
        #expect(server.respondUDP(to: [1, 2, 3], from: client) == nil, "too short to answer")
        var rng = SeededRandom(seed: 11)
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 16...150, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if let reply = server.respondUDP(to: bytes, from: client) {
                #expect(reply.count <= bytes.count, "an error reply of \(reply.count) bytes to \(bytes.count) bytes of junk")
                guard case .error = try UDPTrackerPacket.parseResponse(reply) else {
                    Issue.record("garbage accepted: \(bytes)")
                    continue
                }
            }
        }
        await server.shutdown()
    }
}
