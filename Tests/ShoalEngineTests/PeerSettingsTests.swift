import Foundation
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Testing

/// The peer port and connection limits changed while running (a remote's `session-set`): a
/// lowered limit closes the surplus, saying why; a moved port is where peers reach us, and what
/// the trackers hear.
@Suite("Peer port and connection limits while running", .serialized)
struct PeerSettingsTests {
    static func closes(_ log: CapturedLog, _ reason: String) -> Int {
        log.all.filter { $0.message == "closed" && $0.metadata["reason"]?.contains(reason) == true }.count
    }

    @Test func loweredLimitsCloseTheSurplusWithTheirReason() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let first = try harness.makeTorrent(name: "first.bin", files: nil, singleSize: 3_000_000, pieceLength: 32 << 10, in: seedDir, seed: 61)
        let second = try harness.makeTorrent(name: "second.bin", files: nil, singleSize: 3_000_000, pieceLength: 32 << 10, in: seedDir, seed: 62)
        let log = CapturedLog()
        // Slow enough that every leecher is still connected when the limits come down.
        let seeder = try await harness.startSession("seed") {
            $0.downloadDirectory = seedDir.path
            $0.uploadLimit = 64 << 10
            $0.logger = log.logger()
        }
        try await seeder.add(first)
        try await seeder.add(second)
        var leechers: [Session] = []
        for index in 0..<2 {
            let leecher = try await harness.startSession("leech\(index)")
            try await leecher.add(first)
            try await leecher.add(second)
            leechers.append(leecher)
        }
        let counts = { @Sendable in await seeder.snapshot().torrents.map(\.peers.count) }
        let allIn = await harness.waitUntil(timeout: .seconds(30)) { await counts() == [2, 2] }
        let joined = await counts()
        #expect(allIn, "each leecher on both torrents: \(joined)")
        // The seeder dials the leechers too (seeds dial): a dial to one already connected holds
        // a slot until it is refused as a duplicate.
        let fourSlots = await harness.waitUntil(timeout: .seconds(10)) { seeder.peerBudget.inUse == 4 }
        #expect(fourSlots, "slots in use: \(seeder.peerBudget.inUse)")

        // Each torrent down to one: one peer of each closes, the newest useful one stays.
        await seeder.setPeerLimits(perTorrent: 1)
        let perTorrent = await harness.waitUntil(timeout: .seconds(10)) {
            await counts().allSatisfy { $0 <= 1 } && seeder.peerBudget.inUse <= 2
        }
        let afterPerTorrent = await counts()
        #expect(perTorrent, "\(afterPerTorrent), budget \(seeder.peerBudget.inUse)")
        // One of each torrent's two (unless a peer left on its own meanwhile: never more).
        let perTorrentCloses = Self.closes(log, "the torrent's connection limit was lowered to 1")
        #expect((1...2).contains(perTorrentCloses), "\(perTorrentCloses) closed for the per-torrent limit")
        #expect(await seeder.peerLimitPerTorrent == 1)
        // A leecher dialling again fills a torrent's one free slot: wait for one peer on each.
        let onePerTorrent = await harness.waitUntil(timeout: .seconds(30)) {
            await counts() == [1, 1] && seeder.peerBudget.inUse == 2
        }
        let beforeGlobal = await counts()
        #expect(onePerTorrent, "\(beforeGlobal)")

        // The session down to one: the other torrent's peer goes too, and says why.
        await seeder.setPeerLimits(global: 1)
        let global = await harness.waitUntil(timeout: .seconds(10)) {
            await counts().reduce(0, +) <= 1 && seeder.peerBudget.inUse <= 1
        }
        let afterGlobal = await counts()
        #expect(global, "\(afterGlobal), budget \(seeder.peerBudget.inUse)")
        #expect(Self.closes(log, "the session-wide connection limit was lowered to 1") >= 1)
        #expect(seeder.peerBudget.limit == 1)
        // A leecher dialling again is refused for the same reason, not admitted past the limit.
        let refused = await harness.waitUntil(timeout: .seconds(20)) {
            log.all.contains { $0.message == "refused" && $0.metadata["reason"].map { $0.contains("limit") || $0.contains("slots") } == true }
        }
        #expect(refused)
        #expect(await counts().reduce(0, +) <= 1)
        await harness.stopAll()
    }

    /// A port nobody holds, found by binding one and letting it go.
    static func freePort() throws -> Int {
        let (fd, port) = try LoopbackSocket.listener()
        close(fd)
        return port
    }

    @Test func aMovedPortIsWherePeersAndTrackersFindUs() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "moved.bin", files: nil, singleSize: 600_000, pieceLength: 32 << 10, in: seedDir, seed: 63)
        let seeder = try await harness.startSession("seed") { $0.downloadDirectory = seedDir.path }
        try await seeder.add(torrent)
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await seeder.snapshot().torrents.first?.trackers.first?.status == "working" })
        let old = Int(seeder.listenPort)
        let hello = Handshake(infoHash: torrent.infoHash, peerID: .generate()).encoded
        #expect(await LoopbackSocket.exchange(hello, port: old) != nil)

        // A port already taken: refused with the reason, and nothing changes.
        let (held, taken) = try LoopbackSocket.listener()
        await #expect(throws: Session.SessionError.self) { try await seeder.setPeerPort(UInt16(taken)) }
        close(held)
        #expect(Int(seeder.listenPort) == old)

        let wanted = try Self.freePort()
        try await seeder.setPeerPort(UInt16(wanted))
        #expect(Int(seeder.listenPort) == wanted)
        // Read for up to 5 s: under the full suite's load the answer can take a while.
        let answer = await LoopbackSocket.exchange(hello, port: wanted, timeout: 5)
        #expect(answer.map { Array($0.bytes.prefix(20)) == Array(hello.prefix(20)) } == true, "a handshake on the new port")
        #expect(await LoopbackSocket.exchange(hello, port: old) == nil, "the old port is closed")

        // A leecher that joins now learns the seeder from the tracker: only the new port can serve it.
        let leecher = try await harness.startSession("leech")
        try await leecher.add(torrent)
        let done = await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.activity == .seeding }
        #expect(done)
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("moved.bin"),
                                          harness.root.appendingPathComponent("leech/moved.bin")))

        // Through the RPC, as transmission-remote -p sends it.
        let rpc = TransmissionRPC(session: seeder, sessionID: "id", fetch: { _ in [] }, close: {})
        let next = try Self.freePort()
        _ = try await rpc.perform("session-set", ["peer-port": .int(next)])
        #expect(try await rpc.perform("session-get", ["fields": ["peer-port"]])["peer-port"]?.int == next)
        await #expect(throws: (any Error).self) { _ = try await rpc.perform("session-set", ["peer-port": .int(70_000)]) }
        await #expect(throws: (any Error).self) { _ = try await rpc.perform("session-set", ["peer-limit-global": .int(0)]) }
        await harness.stopAll()
    }

    /// The DHT hears the new port too: a leecher that knows only the info-hash finds the
    /// seeder through the DHT after the move, and the old port is closed, so only the new one
    /// can have served it.
    @Test func aMovedPortReachesTheDHT() async throws {
        let harness = try SwarmHarness()
        // Queries wait 5 s: the test is about the port, and under the full suite's load 500 ms
        // answers came late enough that the leecher's lookups found nobody for 90 s.
        let router = try await DHTNode.start(bind: "127.0.0.1", port: 0, bootstrap: [], queryTimeout: .seconds(5))
        let routerTask = Task { await router.run() }
        let bootstrap = [PeerAddress(host: "127.0.0.1", port: UInt16(router.port))]
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "dht-moved.bin", files: nil, singleSize: 300_000, pieceLength: 32 << 10,
                                              in: seedDir, seed: 64, trackers: [])
        func dhtConfig(_ config: inout EngineConfig) {
            config.dhtEnabled = true
            config.dhtBootstrap = bootstrap
            config.dhtQueryTimeout = .seconds(5)
        }
        let log = CapturedLog()
        let seeder = try await harness.startSession("seed") { config in
            dhtConfig(&config)
            config.downloadDirectory = seedDir.path
            config.logger = log.logger()
        }
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        let old = seeder.listenPort
        #expect(await harness.waitUntil { log.all.contains { $0.message == "DHT announce" && $0.metadata["port"] == "\(old)" } })
        let wanted = try Self.freePort()
        try await seeder.setPeerPort(UInt16(wanted))
        // Announced again at once with the new port, not at the next interval (15 minutes).
        #expect(await harness.waitUntil(timeout: .seconds(30)) {
            log.all.contains { $0.message == "DHT announce" && $0.metadata["port"] == "\(wanted)" }
        })
        let leecher = try await harness.startSession("leech", configure: dhtConfig)
        try await leecher.add(magnet: MagnetLink(infoHash: torrent.infoHash))
        let done = await harness.waitUntil(timeout: .seconds(90)) { await leecher.snapshot().torrents.first?.isComplete == true }
        let seen = await leecher.snapshot()
        #expect(done, "leecher: DHT nodes \(seen.dhtNodes), \(seen.torrents.first.map { "\($0.activity), closed \($0.closeReasons.summary)" } ?? "no torrent")")
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("dht-moved.bin"),
                                          harness.root.appendingPathComponent("leech/dht-moved.bin")))
        await harness.stopAll()
        await router.shutdown()
        await routerTask.value
    }
}

