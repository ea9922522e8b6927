import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// What a user sees across pauses and restarts: progress kept, no needless recheck, settings
/// and the session file kept up to date for as long as Shoal runs.
@Suite("Pause, resume and restart", .serialized)
struct PauseAndRestartTests {
    /// Paused half-way, a torrent shows what it has (not 0 %), and resuming hashes nothing:
    /// resume data says which pieces are there and which are missing.
    @Test func pausedTorrentKeepsItsProgressAndResumesWithoutHashing() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "slow.bin", files: nil, singleSize: 4 << 20, pieceLength: 32 << 10,
                                              in: seedDir, seed: 41)
        let seeder = try await harness.startSession("seed") { $0.uploadLimit = 512 << 10 }
        try await seeder.add(torrent)
        let state = harness.root.appendingPathComponent("state").path
        let leecher = try await harness.startSession("leech") { $0.stateDirectory = state }
        let hash = try await leecher.add(torrent)
        #expect(await harness.waitUntil(timeout: .seconds(60)) {
            (await leecher.snapshot().torrents.first?.haveSize ?? 0) >= 512 << 10
        })
        try await leecher.pause(hash)
        let paused = try #require(await leecher.snapshot().torrents.first)
        #expect(paused.activity == .paused)
        #expect(paused.haveSize >= 512 << 10 && paused.haveSize < 4 << 20, "paused at \(paused.haveSize) bytes")
        #expect(paused.pieces.setCount > 0)

        // The same after a restart: the paused torrent shows its progress before it runs.
        await leecher.shutdown()
        let again = try await harness.startSession("leech") { $0.stateDirectory = state }
        #expect(await again.restore().isEmpty)
        let restored = try #require(await again.snapshot().torrents.first)
        #expect(restored.activity == .paused)
        #expect(restored.haveSize == paused.haveSize)

        try await again.resume(hash)
        #expect(await harness.waitUntil(timeout: .seconds(30)) {
            guard let torrent = await again.snapshot().torrents.first else { return false }
            return torrent.activity == .downloading || torrent.activity == .seeding
        })
        let resumed = try #require(await again.snapshot().torrents.first)
        #expect(resumed.piecesHashedOnCheck == 0, "resume hashed \(resumed.piecesHashedOnCheck) pieces")
        #expect(resumed.haveSize >= paused.haveSize)
        #expect(await harness.waitUntil(timeout: .seconds(120)) { await again.snapshot().torrents.first?.isComplete == true })
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("slow.bin"),
                                          harness.root.appendingPathComponent("leech/slow.bin")))
        await harness.stopAll()
    }

    /// Limits set while running (the interface's `u` and `d`) come back after a restart,
    /// unless the new run's own settings name limits.
    @Test func globalLimitsSurviveARestart() async throws {
        let harness = try SwarmHarness()
        let state = harness.root.appendingPathComponent("state").path
        let first = try await harness.startSession("one") { $0.stateDirectory = state }
        await first.setGlobalLimits(upload: 100 << 10, download: 300 << 10)
        await first.shutdown()
        let second = try await harness.startSession("two") { $0.stateDirectory = state }
        #expect(await second.restore().isEmpty)
        let snapshot = await second.snapshot()
        #expect(snapshot.uploadLimit == 100 << 10 && snapshot.downloadLimit == 300 << 10)
        await second.shutdown()
        let third = try await harness.startSession("three") {
            $0.stateDirectory = state
            $0.uploadLimit = 7 << 10
            $0.restoresGlobalLimits = false
        }
        _ = await third.restore()
        #expect(await third.snapshot().uploadLimit == 7 << 10, "the run's own limit wins")
        await harness.stopAll()
    }

    /// A bare magnet (no tracker, no `x.pe`) plus a peer named by the user (`--peer`) fetches
    /// its metadata from that peer and downloads.
    @Test func peerGivenForABareMagnetIsDialled() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "bare.bin", files: nil, singleSize: 300_000, pieceLength: 16 << 10,
                                              in: seedDir, seed: 43, trackers: [])
        let seeder = try await harness.startSession("seed")
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        let leecher = try await harness.startSession("leech")
        let hash = try await leecher.add(magnet: MagnetLink(infoHash: torrent.infoHash))
        await leecher.addPeers(hash, [PeerAddress(host: "127.0.0.1", port: seeder.listenPort)])
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true })
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("bare.bin"),
                                          harness.root.appendingPathComponent("leech/bare.bin")))
        await harness.stopAll()
    }

    /// A running torrent's totals are saved again every interval for as long as the session
    /// runs (the first release's save loop stopped after its first round): each round appends
    /// the torrent's record to the journal while its totals move, and nothing while they stand.
    @Test func sessionIsSavedEveryIntervalNotJustOnce() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "slow.bin", files: nil, singleSize: 2_000_000, pieceLength: 16 << 10, in: seedDir, seed: 12)
        let seeder = try await harness.startSession("seed")
        try await seeder.add(torrent)
        let state = harness.root.appendingPathComponent("state").path
        let session = try await harness.startSession("one") {
            $0.stateDirectory = state
            $0.sessionSaveInterval = .milliseconds(200)
        }
        #expect(await session.restore().isEmpty)
        let hash = try await session.add(torrent)
        // Slow enough to last every round: 2 MB at 32 KiB/s.
        try await session.setTorrentLimits(hash, upload: 0, download: 32 << 10)
        @Sendable func records() -> Int {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: state)) ?? []
            return names.filter { $0.hasPrefix("session.journal.") }.reduce(0) { count, name in
                count + ((try? String(contentsOfFile: state + "/" + name, encoding: .utf8))?.split(separator: "\n").count ?? 0)
            }
        }
        for round in 1...4 {
            let before = records()
            let saved = await harness.waitUntil(timeout: .seconds(10)) { records() > before }
            #expect(saved, "round \(round): the running torrent's totals were not saved again")
        }
        let saved = try SessionStore(directory: state).loadSession()
        #expect(saved.torrents.first?.downloaded ?? 0 > 0, "the journal's last record has the totals")
        await harness.stopAll()
    }
}
