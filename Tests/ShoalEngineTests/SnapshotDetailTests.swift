import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// The interface's snapshot: every torrent with what the list shows, only the open one with
/// its pieces' availability, files and peers' bitfields.
@Suite("Snapshots detailed for one torrent")
struct SnapshotDetailTests {
    @Test func onlyTheChosenTorrentCarriesItsDetails() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seed = harness.root.appendingPathComponent("seed")
        let one = try harness.makeTorrent(name: "one", files: [("a.bin", 40_000), ("b.bin", 20_000)], pieceLength: 16 << 10, in: seed, seed: 1)
        let two = try harness.makeTorrent(name: "two", files: [("c.bin", 30_000)], pieceLength: 16 << 10, in: seed, seed: 2)
        let session = try await harness.startSession("seed")
        let first = try await session.add(one, downloadDirectory: seed.path)
        _ = try await session.add(two, downloadDirectory: seed.path)
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await session.snapshot().torrents.allSatisfy { $0.activity == .seeding } })
        let full = await session.snapshot()
        let partial = await session.snapshot(detailed: [first])
        #expect(full.torrents.map(\.files.count) == [2, 1] && full.torrents.allSatisfy { $0.availability.count == $0.pieces.count })
        let chosen = try #require(partial.torrents.first { $0.id == first })
        let other = try #require(partial.torrents.first { $0.id != first })
        #expect(chosen.files.count == 2 && chosen.availability.count == chosen.pieces.count)
        #expect(other.files.isEmpty && other.availability.isEmpty && other.piecesInProgress.isEmpty)
        // What the list shows is in both.
        #expect(other.name == "two" && other.haveSize == 30_000 && other.wantedSize == 30_000 && other.activity == .seeding)
        #expect(other.pieces.setCount == other.pieces.count)

        // Paused, its snapshot is kept: asked for first without details, it still has them when
        // the details are asked for after.
        try await session.pause(other.id)
        _ = await session.snapshot(detailed: [])
        let resting = try #require(await session.snapshot(detailed: [other.id]).torrents.first { $0.id == other.id })
        #expect(resting.activity == .paused && resting.files.count == 1)
        await harness.stopAll()
    }
}
