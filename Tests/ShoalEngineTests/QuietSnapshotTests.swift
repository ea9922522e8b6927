import Foundation
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Testing

/// A running torrent with nothing going on (no peers, no dials, not checking) is not asked for
/// its snapshot again while it counts no change: the session hands out what it kept. Anything
/// it shows that moves — a command, a peer arriving — is seen at the next snapshot.
@Suite("Quiet torrents' snapshots kept", .serialized)
struct QuietSnapshotTests {
    @Test func keptWhileQuietAndDroppedOnEveryChange() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "quiet.bin", files: nil, singleSize: 300_000, pieceLength: 32 << 10, in: seedDir,
                                              seed: 41, trackers: [])
        let seeder = try await harness.startSession("seed")
        let hash = try await seeder.add(torrent)
        let runtime = try #require(await seeder.runtime(for: hash))
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        #expect(await harness.waitUntil { runtime.isQuiet.load(ordering: .relaxed) == true }, "no peers, nothing under way")

        // Two list-only snapshots in a row give the same object (bounded: a tick may count a
        // change between any two).
        @Sendable func listed() async -> SharedSnapshot? { await seeder.sharedSnapshots(detailed: []).first }
        #expect(await harness.waitUntil(timeout: .seconds(30)) {
            let first = await listed()
            let second = await listed()
            return first != nil && first === second
        }, "kept while quiet")
        let kept = try #require(await listed())
        // Details asked for: taken from the runtime, never the kept list-only one.
        let detailed = try #require(await seeder.sharedSnapshots(detailed: [hash]).first)
        #expect(detailed !== kept && !detailed.snapshot.files.isEmpty)
        #expect(kept.snapshot.files.isEmpty)

        // A command changes what it shows: seen at once.
        try await seeder.setLabels(hash, ["kept"])
        let labelled = try #require(await listed())
        #expect(labelled !== kept && labelled.snapshot.details.labels == ["kept"])

        // Kept again, then a peer arrives: the next snapshot shows it (the kept one had none).
        #expect(await harness.waitUntil(timeout: .seconds(30)) {
            let first = await listed()
            let second = await listed()
            return first != nil && first === second
        })
        #expect(try #require(await listed()).snapshot.peers.isEmpty)
        let leecher = try await harness.startSession("leech") { $0.downloadLimit = 64 << 10 }
        let leeching = try await leecher.add(torrent)
        await leecher.addPeers(leeching, [PeerAddress(host: "127.0.0.1", port: seeder.listenPort)])
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await listed()?.snapshot.peers.isEmpty == false },
                "the arriving peer is listed, not hidden behind the kept snapshot")
        let quietNow = runtime.isQuiet.load(ordering: .relaxed)
        #expect(!quietNow)

        // However quiet, a kept snapshot is not handed out past its time.
        let slot = try #require(await seeder.restingSlots[hash])
        let old = RestingSlot.Quiet(shared: kept, runtime: runtime, changes: runtime.snapshotChanges.load(ordering: .relaxed),
                                    taken: .now - RestingSlot.quietFor - .seconds(1))
        slot.keepQuiet(old)
        #expect(slot.kept(listOnly: true, now: .now) == nil)
        await harness.stopAll()
    }
}
