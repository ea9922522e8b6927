import Foundation
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Testing

/// Moving a torrent's data by copying it (as across filesystems): the copy counts its bytes for
/// the progress shown, runs in the background while the session answers, and a copy that gives
/// up leaves the original whole and nothing at the destination.
@Suite("Moving data")
struct MoveTests {
    /// The copy blocks (reads, writes, fsync): run off the cooperative pool, as the session runs
    /// it on its I/O pool, so a slow disk under the whole suite cannot stall other tests.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    @Test func copyCountsEveryByteAndKeepsTheTree() async throws {
        let harness = try SwarmHarness()
        let source = harness.root.appendingPathComponent("from/album")
        try FileManager.default.createDirectory(at: source.appendingPathComponent("cd1/empty"), withIntermediateDirectories: true)
        let sizes = [("cd1/a.bin", 9 << 20), ("cd1/b.bin", 1), ("cover.jpg", 0)]
        for (path, size) in sizes {
            try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: source.appendingPathComponent(path))
        }
        let target = harness.root.appendingPathComponent("to-album").path
        let progress = MoveProgress(destination: target)
        let sourcePath = source.path
        try await Self.offPool { try TreeCopy.copy(sourcePath, to: target, progress: progress) }
        #expect(progress.fraction == 1 && TreeCopy.size(of: target) == (9 << 20) + 1)
        for (path, _) in sizes {
            #expect(FileManager.default.contents(atPath: target + "/" + path) == FileManager.default.contents(atPath: source.path + "/" + path))
        }
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: target + "/cd1/empty", isDirectory: &isDirectory) && isDirectory.boolValue)

        // Cancelled (the session shutting down): nothing left at the destination, the original whole.
        let cancelled = MoveProgress(destination: target + "-2")
        cancelled.cancel()
        await #expect(throws: StorageError.self) { try await Self.offPool { try TreeCopy.copy(sourcePath, to: target + "-2", progress: cancelled) } }
        #expect(!FileManager.default.fileExists(atPath: target + "-2"))
        #expect(TreeCopy.size(of: source.path) == (9 << 20) + 1)
    }

    /// `startMove` returns at once; snapshots show the move under way, then the torrent seeding
    /// from the new place with nothing hashed again; a move that cannot be done is a notice.
    @Test func backgroundMoveShowsProgressThenSeedsThere() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let directory = harness.root.appendingPathComponent("home")
        let torrent = try harness.makeTorrent(name: "big", files: [("one.bin", 24 << 20), ("sub/two.bin", 8 << 20)],
                                              pieceLength: 1 << 20, in: directory, seed: 12)
        let session = try await harness.startSession("home") {
            $0.stateDirectory = harness.root.appendingPathComponent("state").path
            $0.movesCopy = true
        }
        let hash = try await session.add(torrent)
        #expect(await harness.waitUntil(timeout: .seconds(120)) { await session.snapshot().torrents.first?.activity == .seeding })
        let target = harness.root.appendingPathComponent("elsewhere")
        try await session.startMove(hash, directory: target.path)
        var fractions: [Double] = []
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let snapshot = try #require(await session.snapshot().torrents.first)
            if let move = snapshot.move {
                #expect(move.destination == target.path)
                fractions.append(move.fraction)
            } else if snapshot.details.location == target.path {
                break
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        #expect(!fractions.isEmpty, "a 32 MiB copy was never seen under way")
        #expect(fractions == fractions.sorted() && fractions.allSatisfy { (0...1).contains($0) }, "\(fractions)")
        #expect(FileManager.default.fileExists(atPath: target.appendingPathComponent("big/sub/two.bin").path))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("big").path))
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await session.snapshot().torrents.first?.activity == .seeding })
        let moved = try #require(await session.snapshot().torrents.first)
        #expect(moved.piecesHashedOnCheck == 0 && moved.isComplete && moved.move == nil)
        // Said once the move, the session file saved, is all done.
        let said = await harness.waitUntil(timeout: .seconds(30)) {
            await session.notices(after: 0).messages.contains { $0.contains("big: moved the data to \(target.path)") }
        }
        #expect(said)

        // Back to a place where something of that name is: refused, reported, the data stays.
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("big"), withIntermediateDirectories: true)
        try await session.startMove(hash, directory: directory.path)
        let refused = await harness.waitUntil(timeout: .seconds(60)) {
            await session.notices(after: 0).messages.contains { $0.contains("big: cannot move the data") && $0.contains("already exists") }
        }
        let notices = await session.notices(after: 0).messages
        #expect(refused, "\(notices)")
        #expect(FileManager.default.fileExists(atPath: target.appendingPathComponent("big/one.bin").path))
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await session.snapshot().torrents.first?.activity == .seeding })
        await harness.stopAll()
    }
}
