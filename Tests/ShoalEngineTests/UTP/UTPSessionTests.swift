import Foundation
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Testing

/// uTP between Shoal sessions on 127.0.0.1: the dial goes over uTP when the peer takes it (the
/// peer row's `T`), falls back to TCP when it does not, and shares the port with the DHT.
@Suite("uTP in sessions", .serialized)
struct UTPSessionTests {
    static func connections(_ log: CapturedLog) -> [String] {
        log.all.filter { $0.message == "connected" }.map { $0.metadata["utp"] ?? "?" }
    }

    @Test(arguments: [false, true])
    func aTorrentMovesOverUTP(withDHT: Bool) async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "utp.bin", files: nil, singleSize: 3_000_001, pieceLength: 64 << 10, in: seedDir, seed: 18)
        let seedLog = CapturedLog()
        let seeder = try await harness.startSession("seed") {
            $0.downloadDirectory = seedDir.path
            $0.utpEnabled = true
            $0.dhtEnabled = withDHT
            $0.logger = seedLog.logger(level: .debug)
        }
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        let leechLog = CapturedLog()
        let leecher = try await harness.startSession("leech") {
            $0.utpEnabled = true
            $0.dhtEnabled = withDHT
            $0.logger = leechLog.logger(level: .debug)
        }
        try await leecher.add(torrent)
        let done = await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true }
        let state = await leecher.snapshot().torrents.first
        #expect(done, "\(String(describing: state?.closeReasons)) \(leechLog.all.suffix(20).map { "\($0.message) \($0.metadata)" })")
        #expect(state?.hashFailures == 0)
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("utp.bin"), harness.root.appendingPathComponent("leech/utp.bin")))
        // Every connection of both was uTP.
        #expect(!Self.connections(leechLog).isEmpty && Self.connections(leechLog).allSatisfy { $0 == "true" }, "\(Self.connections(leechLog))")
        #expect(Self.connections(seedLog).allSatisfy { $0 == "true" }, "\(Self.connections(seedLog))")
        await harness.stopAll()
    }

    /// The seed takes no uTP: the leecher's SYN goes unanswered, and after about three seconds
    /// it dials TCP and completes; its log says why.
    @Test func aPeerWithoutUTPIsReachedOverTCP() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        // No tracker: only the leecher dials (the seed, told of it, would connect over TCP first).
        let torrent = try harness.makeTorrent(name: "tcp.bin", files: nil, singleSize: 500_001, pieceLength: 64 << 10, in: seedDir, seed: 19,
                                              trackers: [])
        let seeder = try await harness.startSession("seed") {
            $0.downloadDirectory = seedDir.path
            $0.utpEnabled = false
        }
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        let log = CapturedLog()
        let leecher = try await harness.startSession("leech") {
            $0.utpEnabled = true
            $0.logger = log.logger(level: .debug)
        }
        let hash = try await leecher.add(torrent)
        await leecher.addPeers(hash, [PeerAddress(host: "127.0.0.1", port: seeder.listenPort)])
        let started = ContinuousClock.now
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true })
        #expect(ContinuousClock.now - started >= .seconds(2), "the SYN was given its time first")
        #expect(log.all.contains { $0.message == "uTP dial failed; trying TCP" })
        #expect(Self.connections(log) == ["false"], "\(Self.connections(log))")
        await harness.stopAll()
    }

    /// The seed's upload limit holds over uTP as over TCP (it is applied above the transport):
    /// 1.5 MB at 256 KiB/s cannot arrive in much under six seconds, whatever the burst.
    @Test func theUploadLimitAppliesOverUTP() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "capped.bin", files: nil, singleSize: 1_500_000, pieceLength: 64 << 10, in: seedDir,
                                              seed: 20, trackers: [])
        let seeder = try await harness.startSession("seed") {
            $0.downloadDirectory = seedDir.path
            $0.utpEnabled = true
            $0.uploadLimit = 256 << 10
        }
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        let log = CapturedLog()
        let leecher = try await harness.startSession("leech") {
            $0.utpEnabled = true
            $0.logger = log.logger(level: .debug)
        }
        let hash = try await leecher.add(torrent)
        let started = ContinuousClock.now
        await leecher.addPeers(hash, [PeerAddress(host: "127.0.0.1", port: seeder.listenPort)])
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true })
        let took = ContinuousClock.now - started
        // Allowing a second's worth of burst: (1.5 MB − 256 KiB) / 256 KiB/s ≈ 4.7 s at least.
        #expect(took >= .seconds(4), "\(took)")
        #expect(Self.connections(log) == ["true"], "\(Self.connections(log))")
        await harness.stopAll()
    }
}
