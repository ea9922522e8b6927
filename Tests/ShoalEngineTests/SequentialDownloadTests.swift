import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// Sequential download over a real connection: the pieces arrive from the front (after the
/// file's last one), not scattered by rarity, and the setting outlives a restart.
@Suite("Sequential download")
struct SequentialDownloadTests {
    @Test func piecesComeInOrderAndTheSettingIsKept() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "film.bin", files: nil, singleSize: 400 * 16_384, pieceLength: 16 << 10,
                                              in: seedDir, seed: 81)
        // Slow, so there is a moment with part of it done.
        let seeder = try await harness.startSession("seed") { $0.uploadLimit = 256 << 10 }
        try await seeder.add(torrent)
        let state = harness.root.appendingPathComponent("state").path
        let leecher = try await harness.startSession("leech") { $0.stateDirectory = state }
        let hash = try await leecher.add(torrent, paused: true)
        try await leecher.setSequential(hash, true)
        try await leecher.resume(hash)
        #expect(await harness.waitUntil(timeout: .seconds(60)) { (await leecher.snapshot().torrents.first?.pieces.setCount ?? 0) >= 40 })
        let pieces = try #require(await leecher.snapshot().torrents.first?.pieces)
        let had = pieces.setIndices.filter { $0 != 399 }
        #expect(pieces[399], "the last piece first (a player reads the end too)")
        // Rarest first (all equally rare here) would spread them over the 400; in order, they are
        // the front, within a pipeline's reach, but for the few pieces a choking seeder allows
        // fast (BEP 6, at most 10), which are the only ones it may be asked for meanwhile.
        let front = had.filter { $0 < had.count + 64 }
        #expect(front.count >= had.count - 10, "pieces \(had.prefix(80))")
        #expect(await leecher.snapshot().torrents.first?.details.sequential == true)
        await leecher.shutdown()

        let again = try await harness.startSession("leech") { $0.stateDirectory = state }
        #expect(await again.restore().isEmpty)
        #expect(await again.snapshot().torrents.first?.details.sequential == true, "kept in the session file")
        await harness.stopAll()
    }
}

/// The turtle schedule's loop in a session: a span that covers every minute switches the
/// alternative limits on as the session starts, with those limits in force.
@Suite("Alternative speed schedule in a session")
struct AltSpeedScheduleSessionTests {
    @Test func scheduleSwitchesTheTurtleOn() async throws {
        let harness = try SwarmHarness()
        let session = try await harness.startSession("turtle") { config in
            config.altSpeedSchedule = try? AltSpeedSchedule(parsing: "daily 00:00-24:00")
            config.altUploadLimit = 20 << 10
            config.altDownloadLimit = 30 << 10
            config.uploadLimit = 1 << 20
        }
        // The first tick comes at once; the bound is for a loaded machine (10 s was once too short).
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await session.snapshot().altSpeedEnabled })
        let snapshot = await session.snapshot()
        #expect(snapshot.uploadLimit == 20 << 10 && snapshot.downloadLimit == 30 << 10, "the turtle's limits are in force")
        await harness.stopAll()
    }
}
