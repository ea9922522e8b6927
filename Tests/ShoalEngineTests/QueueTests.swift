import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// Queueing in a session: one download slot; the second torrent waits as queued, moving it to
/// the top swaps them, and a download nobody can feed gives up its slot once stalled.
@Suite("Download queue", .serialized)
struct QueueTests {
    @Test func oneSlotQueueMovesAndStalls() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let orphan = try harness.makeTorrent(name: "orphan.bin", files: nil, singleSize: 100_000, pieceLength: 16 << 10,
                                             in: harness.root.appendingPathComponent("nowhere"), seed: 91)
        let fed = try harness.makeTorrent(name: "fed.bin", files: nil, singleSize: 300_000, pieceLength: 16 << 10, in: seedDir, seed: 92)
        let seeder = try await harness.startSession("seed")
        try await seeder.add(fed)
        let leecher = try await harness.startSession("leech") { config in
            config.maxActiveDownloads = 1
            config.queueStalledAfter = .seconds(4)
        }
        @Sendable func activity(_ hash: InfoHash) async -> TorrentActivity? { await leecher.snapshot().torrents.first { $0.id == hash }?.activity }
        let orphanHash = try await leecher.add(orphan)
        let fedHash = try await leecher.add(fed)
        let (orphanState, fedState) = (await activity(orphanHash), await activity(fedHash))
        #expect(orphanState != .queued && fedState == .queued, "the second waits for the slot")
        // Nobody has the orphan: once stalled it keeps running but gives up its slot. (About
        // 5 s alone; up to 90 s allowed: under the full suite's load this once took over 30.)
        #expect(await harness.waitUntil(timeout: .seconds(90)) { await leecher.snapshot().torrents.first { $0.id == fedHash }?.isComplete == true },
                "the queued torrent ran once the first stalled")
        #expect(await activity(orphanHash) == .downloading, "the stalled one still runs, in case a peer comes")

        // Paused by the user: not queued, and stays paused.
        try await leecher.pause(orphanHash)
        #expect(await activity(orphanHash) == .paused)
        await harness.stopAll()
    }

    @Test func movingToTheTopTakesTheSlot() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let first = try harness.makeTorrent(name: "first.bin", files: nil, singleSize: 2_000_000, pieceLength: 16 << 10, in: seedDir, seed: 93)
        let second = try harness.makeTorrent(name: "second.bin", files: nil, singleSize: 2_000_000, pieceLength: 16 << 10, in: seedDir, seed: 94)
        let seeder = try await harness.startSession("seed") { $0.uploadLimit = 64 << 10 }
        try await seeder.add(first)
        try await seeder.add(second)
        let leecher = try await harness.startSession("leech") { $0.maxActiveDownloads = 1 }
        let a = try await leecher.add(first)
        let b = try await leecher.add(second)
        @Sendable func activity(_ hash: InfoHash) async -> TorrentActivity? { await leecher.snapshot().torrents.first { $0.id == hash }?.activity }
        #expect(await activity(b) == .queued)
        try await leecher.moveInQueue(b, .top)
        #expect(await leecher.snapshot().torrents.map(\.id) == [b, a], "the list shows the queue order")
        #expect(await harness.waitUntil(timeout: .seconds(20)) {
            let (first, second) = (await activity(a), await activity(b))
            return first == .queued && second != .queued
        },
                "the one moved to the top runs, the other waits")
        await harness.stopAll()
    }
}
