import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// A file deleted under a running torrent: the first release kept writing into the unlinked
/// inode, printed "completed", and seeded 100 % from an empty directory.
@Suite("Files deleted while a torrent runs", .serialized)
struct VanishedFileTests {
    @Test func deletedWhileDownloadingStopsTheTorrentAndResumeFetchesItAgain() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "set", files: [("a.bin", 1 << 20), ("b.bin", 1 << 20)], pieceLength: 32 << 10,
                                              in: seedDir, seed: 71)
        let seeder = try await harness.startSession("seed") { $0.uploadLimit = 384 << 10 }
        try await seeder.add(torrent)
        let leecher = try await harness.startSession("leech")
        let hash = try await leecher.add(torrent)
        let leechRoot = harness.root.appendingPathComponent("leech/set")
        // Files are created at their first write and pieces come in any order, so wait until
        // both exist rather than for a byte count that one file alone may hold.
        let bothWritten: @Sendable () -> Bool = { ["a.bin", "b.bin"].allSatisfy { FileManager.default.fileExists(atPath: leechRoot.appendingPathComponent($0).path) } }
        #expect(await harness.waitUntil(timeout: .seconds(60)) {
            (await leecher.snapshot().torrents.first?.haveSize ?? 0) >= 256 << 10 && bothWritten()
        })
        for name in ["a.bin", "b.bin"] { try FileManager.default.removeItem(at: leechRoot.appendingPathComponent(name)) }
        let stopped = await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.activity == .error }
        let snapshot = try #require(await leecher.snapshot().torrents.first)
        #expect(stopped, "still \(snapshot.activity) at \(snapshot.haveSize) bytes")
        #expect(snapshot.error?.contains("deleted") == true, "\(snapshot.error ?? "no error")")
        #expect(!snapshot.isComplete)
        #expect(snapshot.haveSize < 2 << 20)
        #expect(!FileManager.default.fileExists(atPath: leechRoot.appendingPathComponent("a.bin").path), "not re-created behind the user's back")

        // The user resumes: what is on disk is checked, the rest fetched again.
        try await leecher.resume(hash)
        #expect(await harness.waitUntil(timeout: .seconds(120)) { await leecher.snapshot().torrents.first?.isComplete == true })
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("set"), leechRoot))
        await harness.stopAll()
    }

    @Test func deletedWhileSeedingStopsSeeding() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "solo.bin", files: nil, singleSize: 200_000, pieceLength: 16 << 10,
                                              in: seedDir, seed: 72, trackers: [])
        let seeder = try await harness.startSession("seed") {
            $0.resumeSaveInterval = .seconds(1)
            $0.idleFileCheckInterval = .seconds(1)
        }
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        try FileManager.default.removeItem(at: seedDir.appendingPathComponent("solo.bin"))
        #expect(await harness.waitUntil(timeout: .seconds(20)) { await seeder.snapshot().torrents.first?.activity == .error })
        let snapshot = try #require(await seeder.snapshot().torrents.first)
        #expect(snapshot.error?.contains("solo.bin was deleted") == true, "\(snapshot.error ?? "no error")")
        #expect(snapshot.haveSize == 0, "no piece is claimed from a file that is gone")
        await harness.stopAll()
    }
}
