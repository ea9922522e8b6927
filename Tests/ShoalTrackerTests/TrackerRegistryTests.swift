import Foundation
import ShoalCore
import ShoalTestSupport
import Testing
@testable import ShoalTracker

@Suite("Tracker registry and HTTP handler")
struct TrackerRegistryTests {
    static let hash = InfoHash(bytes: [UInt8](repeating: 0x11, count: 20))!
    static func id(_ n: Int) -> PeerID { PeerID(bytes: Array("-SH0100-\(String(format: "%012d", n))".utf8))! }

    static func announce(_ n: Int, left: Int64, event: AnnounceRequest.Event = .none) -> TrackerAnnounce {
        TrackerAnnounce(infoHash: hash, peerID: id(n), address: PeerAddress(host: "127.0.0.1", port: UInt16(7000 + n)),
                        left: left, event: event)
    }

    @Test func countsSeedsAndLeechersAndNeverReturnsTheAsker() throws {
        var registry = TrackerRegistry(interval: 60)
        var rng = SeededRandom(seed: 1)
        let now = ContinuousClock.now
        _ = try registry.announce(Self.announce(1, left: 0, event: .started), now: now, using: &rng)
        _ = try registry.announce(Self.announce(2, left: 10, event: .started), now: now, using: &rng)
        let reply = try registry.announce(Self.announce(3, left: 10, event: .started), now: now, using: &rng)
        #expect(reply.complete == 1 && reply.incomplete == 2)
        #expect(Set(reply.peers.map(\.port)) == [7001, 7002])
        // A seed is not sent other seeds while there are leechers (a minute later: sooner than
        // min interval it would get no peers at all).
        let seedReply = try registry.announce(Self.announce(1, left: 0), now: now + .seconds(60), using: &rng)
        #expect(Set(seedReply.peers.map(\.port)) == [7002, 7003])
        _ = try registry.announce(Self.announce(2, left: 0, event: .completed), now: now, using: &rng)
        #expect(registry.counts(for: Self.hash) == TrackerRegistry.Counts(complete: 2, incomplete: 1, downloaded: 1))
        _ = try registry.announce(Self.announce(3, left: 10, event: .stopped), now: now, using: &rng)
        #expect(registry.counts(for: Self.hash).incomplete == 0)
    }

    /// A client fetching a magnet's metadata says `left=0` too (aria2 does): it gets the seeds,
    /// leechers first when there are any.
    @Test func aLeftZeroAnnounceGetsSeedsWhenThereAreNoLeechers() throws {
        var registry = TrackerRegistry(interval: 60)
        var rng = SeededRandom(seed: 5)
        let now = ContinuousClock.now
        for n in 1...3 { _ = try registry.announce(Self.announce(n, left: 0, event: .started), now: now, using: &rng) }
        let magnet = try registry.announce(Self.announce(9, left: 0, event: .started), now: now, using: &rng)
        #expect(Set(magnet.peers.map(\.port)) == [7001, 7002, 7003])
        _ = try registry.announce(Self.announce(4, left: 7, event: .started), now: now, using: &rng)
        var few = Self.announce(9, left: 0)
        few.numwant = 2
        let first = try registry.announce(few, now: now + .seconds(60), using: &rng)
        #expect(first.peers.first?.port == 7004, "the leecher comes first")
        #expect(first.peers.count == 2)
    }

    /// A client announcing every second against a 60 s interval: each too-early regular
    /// announce is answered with counts and no peers (no sampling), and counted.
    @Test func announcingTooOftenGetsAnAnswerWithoutPeers() throws {
        var registry = TrackerRegistry(interval: 60)
        var rng = SeededRandom(seed: 6)
        let start = ContinuousClock.now
        for n in 1...20 { _ = try registry.announce(Self.announce(n, left: 5, event: .started), now: start, using: &rng) }
        var peersHandedOut = 0
        for second in 1...120 {
            peersHandedOut += try registry.announce(Self.announce(1, left: 5), now: start + .seconds(second), using: &rng).peers.count
        }
        // Answered with peers at most about once per min interval (30 s): 4 times in 2 minutes.
        #expect(peersHandedOut <= 4 * 19)
        #expect(registry.throttledCount >= 110)
        let entry = try #require(registry.ledger.entries[AnnounceLedger.Key(infoHash: Self.hash, peerID: Self.id(1))])
        #expect(entry.regular == 120 && entry.started == 1 && entry.tooSoon >= 110)
        // Events are always taken in: `stopped` removes the peer at once.
        _ = try registry.announce(Self.announce(1, left: 5, event: .stopped), now: start + .seconds(121), using: &rng)
        #expect(registry.counts(for: Self.hash).incomplete == 19)
    }

    @Test func theLedgerStaysBounded() {
        var ledger = AnnounceLedger(capacity: 100)
        let now = ContinuousClock.now
        for n in 0..<1_000 { ledger.record(Self.announce(n, left: 1), now: now + .milliseconds(n), minInterval: .seconds(1)) }
        #expect(ledger.entries.count <= 100)
        #expect(ledger.entries[AnnounceLedger.Key(infoHash: Self.hash, peerID: Self.id(999))] != nil, "the newest is kept")
    }

    @Test func peersExpireAfterMissingAnnounces() throws {
        var registry = TrackerRegistry(interval: 10)
        var rng = SeededRandom(seed: 2)
        let now = ContinuousClock.now
        _ = try registry.announce(Self.announce(1, left: 5), now: now, using: &rng)
        registry.expire(now: now + .seconds(79))
        #expect(registry.peerCount == 1)
        registry.expire(now: now + .seconds(81))
        #expect(registry.peerCount == 0)
    }

    @Test func numwantIsCapped() throws {
        var registry = TrackerRegistry(interval: 10)
        var rng = SeededRandom(seed: 3)
        let now = ContinuousClock.now
        for n in 0..<300 { _ = try registry.announce(Self.announce(n, left: 1), now: now, using: &rng) }
        var asker = Self.announce(999, left: 1)
        asker.numwant = 1_000_000
        #expect(try registry.announce(asker, now: now, using: &rng).peers.count == registry.maxNumwant)
    }

    @Test func whitelistRefusesOthers() {
        var registry = TrackerRegistry(interval: 10, whitelist: [])
        var rng = SeededRandom(seed: 4)
        #expect(throws: TrackerFailure.self) { try registry.announce(Self.announce(1, left: 1), now: .now, using: &rng) }
    }

    static let badQueries: [(String, String)] = [
        ("peer_id=-SH0100-abcdefghijkl&port=1", "missing info_hash"),
        ("info_hash=%11%11&peer_id=-SH0100-abcdefghijkl&port=1", "info_hash must be 20 bytes"),
        ("info_hash=\(String(repeating: "%11", count: 19))&peer_id=-SH0100-abcdefghijkl&port=1", "info_hash must be 20 bytes"),
        ("info_hash=\(String(repeating: "%11", count: 20))&peer_id=-SH0100-abcdefghijkl", "missing port"),
        ("info_hash=\(String(repeating: "%11", count: 20))&peer_id=-SH0100-abcdefghijkl&port=99999", "invalid port"),
        ("info_hash=%zz&peer_id=x&port=1", "bad percent-encoding"),
        ("info_hash=\(String(repeating: "%11", count: 20))&peer_id=short&port=1", "peer_id must be 20 bytes"),
        ("info_hash=\(String(repeating: "%11", count: 20))&peer_id=-SH0100-abcdefghijkl&port=1&event=bogus", "invalid event"),
    ]

    @Test("malformed announces get a failure reason", arguments: badQueries)
    func malformedAnnounces(query: String, reason: String) throws {
        let parsed = try? QueryString(query)
        let message: String
        if let parsed {
            do {
                _ = try TrackerAnnounce(query: parsed, remoteHost: "127.0.0.1")
                message = "accepted"
            } catch {
                message = error.description
            }
        } else {
            message = "bad percent-encoding"
        }
        #expect(message.contains(reason), "\(message)")
    }

    @Test func httpHandlerAnswersAnnounceScrapeAndStats() async throws {
        let server = try await TrackerServer.start(bind: "127.0.0.1", httpPort: 0, interval: 30)
        let query = "info_hash=\(String(repeating: "%11", count: 20))&peer_id=-SH0100-abcdefghijkl&port=7000&left=0&event=started"
        let (_, _, body) = server.respond(to: "/announce?" + query, remoteHost: "127.0.0.1")
        let response = try AnnounceResponse(httpBody: body)
        #expect(response.complete == 1 && response.interval == 30)
        let (_, _, failure) = server.respond(to: "/announce?info_hash=abc", remoteHost: "127.0.0.1")
        #expect(throws: AnnounceResponse.Failure.rejected("info_hash must be 20 bytes")) { try AnnounceResponse(httpBody: failure) }
        let (_, _, scrape) = server.respond(to: "/scrape?info_hash=\(String(repeating: "%11", count: 20))", remoteHost: "127.0.0.1")
        let files = try BencodeDecoder.decode(scrape)["files"]?.entries
        #expect(files?.first?.value["complete"]?.integer == 1)
        let (_, type, stats) = server.respond(to: "/stats?format=json", remoteHost: "127.0.0.1")
        #expect(type == "application/json")
        #expect(String(decoding: stats, as: UTF8.self).contains("\"peers\":1"))
        await server.shutdown()
    }

    /// Two requests on one keep-alive connection are both answered; a client that never finishes
    /// its request (slowloris) is cut off after the request timeout.
    @Test func keepAliveAndSlowClients() async throws {
        // Keep-alive on a server with a generous timeout: on a loaded machine (the whole suite
        // beside it) 300 ms could pass before the two requests are answered. The second asks
        // the server to close after it, so the exchange ends when both are answered.
        let patient = try await TrackerServer.start(bind: "127.0.0.1", httpPort: 0, interval: 30, requestTimeout: .seconds(30))
        let patientRunning = Task { await patient.run() }
        let request = "GET /stats HTTP/1.1\r\nHost: t\r\n\r\n"
        let last = "GET /stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        let twice = try #require(await LoopbackSocket.exchange(Array((request + last).utf8), port: patient.httpPort, timeout: 30))
        #expect(twice.closedByPeer, "closed after the second answer, as asked")
        #expect(String(decoding: twice.bytes, as: UTF8.self).components(separatedBy: "announces per second").count == 3)
        await patient.shutdown()
        await patientRunning.value
        let server = try await TrackerServer.start(bind: "127.0.0.1", httpPort: 0, interval: 30, requestTimeout: .milliseconds(300))
        let running = Task { await server.run() }
        let slow = try #require(await LoopbackSocket.exchange(Array("GET /stats HTTP/1.1\r\nHost:".utf8), port: server.httpPort, timeout: 10))
        #expect(slow.bytes.isEmpty && slow.closedByPeer, "the server closes a request that never ends")
        await server.shutdown()
        await running.value
    }
}
