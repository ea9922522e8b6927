import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

@Suite("Session state, fast resume and watch folders", .serialized)
struct PersistenceTests {
    /// Downloads, stops, and starts again from the same state directory: the torrent comes back
    /// seeding without hashing anything; a touched file gets only its own pieces rechecked, and a
    /// damaged piece in it is found and fetched again.
    @Test func restartResumesWithoutARecheck() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "set", files: [("a.bin", 200_000), ("b.bin", 100_000)], pieceLength: 16 << 10,
                                              in: seedDir, seed: 21)
        let seeder = try await harness.startSession("seed")
        try await seeder.add(torrent)
        let state = harness.root.appendingPathComponent("state").path
        let first = try await harness.startSession("leech") { $0.stateDirectory = state }
        let hash = try await first.add(torrent, filePriorities: [.high, .low])
        #expect(await harness.waitUntil(timeout: .seconds(120)) { await first.snapshot().torrents.first?.isComplete == true })
        // The last time data moved, noted at the torrent's tick whether or not anyone asks.
        #expect(await harness.waitUntil(timeout: .seconds(10)) { await first.snapshot().torrents.first?.details.lastActivity != nil })
        try await first.setSeeding(hash, false)
        let seen = try #require(await first.snapshot().torrents.first?.details.lastActivity)
        #expect(abs(seen.timeIntervalSinceNow) < 130)
        await first.shutdown()
        // What the run left (a later tick may have noted later bytes than the snapshot showed).
        let activity = try #require(try SessionStore(directory: state).loadEntries().first?.activity)
        #expect(activity >= seen)
        #expect(FileManager.default.fileExists(atPath: state + "/session.json"))
        #expect(FileManager.default.fileExists(atPath: state + "/resume/\(hash.hex).json"))

        // Same state: back as it was, nothing hashed.
        let second = try await harness.startSession("leech") { $0.stateDirectory = state }
        #expect(await second.restore().isEmpty)
        #expect(await harness.waitUntil(timeout: .seconds(120)) { await second.snapshot().torrents.first?.activity == .finished })
        let restored = try #require(await second.snapshot().torrents.first)
        #expect(restored.piecesHashedOnCheck == 0)
        #expect(restored.files.map(\.priority) == [.high, .low])
        #expect(restored.downloaded >= torrent.info.totalLength, "totals survive restarts")
        let restoredActivity = try #require(restored.details.lastActivity, "and so does the last activity")
        #expect(abs(restoredActivity.timeIntervalSince(activity)) < 0.001)

        // Seeding again, alone, with files it has not opened since the restart: its first
        // uploads cannot come from memory and are read on the I/O pool, the rest on the event loop.
        await seeder.shutdown()
        try await second.setSeeding(hash, true)
        let fresh = try await harness.startSession("fresh")
        try await fresh.add(torrent)
        #expect(await harness.waitUntil(timeout: .seconds(120)) { await fresh.snapshot().torrents.first?.isComplete == true })
        #expect(FileManager.default.contentsEqual(atPath: seedDir.appendingPathComponent("set/a.bin").path,
                                                  andPath: harness.root.appendingPathComponent("fresh/set/a.bin").path))
        await fresh.shutdown()
        await second.shutdown()
        let reseeder = try await harness.startSession("seed")
        try await reseeder.add(torrent)

        // Damage b.bin (its mtime changes): only b's pieces are hashed, and the bad one refetched.
        let bPath = harness.root.appendingPathComponent("leech/set/b.bin").path
        let handle = try #require(FileHandle(forUpdatingAtPath: bPath))
        try handle.seek(toOffset: 50_000)
        handle.write(Data([0xDE, 0xAD]))
        try handle.close()
        let third = try await harness.startSession("leech") { $0.stateDirectory = state }
        _ = await third.restore()
        try await third.setSeeding(hash, true)
        #expect(await harness.waitUntil(timeout: .seconds(120)) { await third.snapshot().torrents.first?.isComplete == true })
        let again = try #require(await third.snapshot().torrents.first)
        let bPieces = torrent.info.geometry.pieces(ofFile: 1).count
        #expect(again.piecesHashedOnCheck <= bPieces && again.piecesHashedOnCheck > 0, "\(again.piecesHashedOnCheck) of \(bPieces)")
        #expect(FileManager.default.contentsEqual(atPath: seedDir.appendingPathComponent("set/b.bin").path, andPath: bPath))
        await harness.stopAll()
    }

    /// A seed that wrote nothing keeps the resume data it has when it stops (a quit with
    /// 100,000 seeds rewrote and synced each record, five minutes), and is trusted next start.
    @Test func aSeedsStopLeavesItsResumeDataAlone() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "kept.bin", files: nil, singleSize: 200_000, pieceLength: 16 << 10, in: seedDir,
                                              seed: 23, trackers: [])
        let state = harness.root.appendingPathComponent("state").path
        let first = try await harness.startSession("seed") { $0.stateDirectory = state }
        let hash = try await first.add(torrent)
        let path = state + "/resume/\(hash.hex).json"
        #expect(await harness.waitUntil { FileManager.default.fileExists(atPath: path) }, "saved once, seeding")
        func identity() -> [String]? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return ["\(info.st_ino)", "\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"]
        }
        let before = identity()
        await first.shutdown()
        #expect(identity() == before && before != nil, "not written again at the stop")
        let second = try await harness.startSession("seed") { $0.stateDirectory = state }
        #expect(await second.restore().isEmpty)
        #expect(await harness.waitUntil { await second.snapshot().torrents.first?.activity == .seeding })
        #expect(await second.snapshot().torrents.first?.piecesHashedOnCheck == 0, "trusted without a check")
        await harness.stopAll()
    }

    @Test func pausedTorrentsStayPausedAndRemovedOnesStayGone() async throws {
        let harness = try SwarmHarness()
        let state = harness.root.appendingPathComponent("state").path
        let content = harness.root.appendingPathComponent("content")
        let one = try harness.makeTorrent(name: "one.bin", files: nil, singleSize: 40_000, pieceLength: 16 << 10, in: content,
                                          seed: 1, trackers: [])
        let two = try harness.makeTorrent(name: "two.bin", files: nil, singleSize: 40_000, pieceLength: 16 << 10, in: content,
                                          seed: 2, trackers: [])
        let first = try await harness.startSession("a") { $0.stateDirectory = state }
        let oneHash = try await first.add(one, downloadDirectory: content.path)
        let twoHash = try await first.add(two, downloadDirectory: content.path)
        try await first.setTorrentLimits(oneHash, upload: 10_240, download: 20_480)
        try await first.pause(oneHash)
        try await first.remove(twoHash)
        await first.shutdown()
        let second = try await harness.startSession("a") { $0.stateDirectory = state }
        #expect(await second.restore().isEmpty)
        let torrents = await second.snapshot().torrents
        #expect(torrents.map(\.id) == [oneHash])
        #expect(torrents.first?.activity == .paused)
        let saved = try SessionStore(directory: state).loadEntries()
        #expect(saved.first?.uploadLimit == 10_240 && saved.first?.downloadLimit == 20_480)
        await harness.stopAll()
    }

    @Test func brokenSessionFileIsReportedAndKept() async throws {
        let harness = try SwarmHarness()
        let state = harness.root.appendingPathComponent("state")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        try Data("{ not json".utf8).write(to: state.appendingPathComponent("session.json"))
        let session = try await harness.startSession("a") { $0.stateDirectory = state.path }
        let problems = await session.restore()
        #expect(problems.count == 1)
        #expect(FileManager.default.fileExists(atPath: state.appendingPathComponent("session.json.broken").path))
        await harness.stopAll()
    }

    @Test func watchFolderAddsOnceRenamesAndRejectsInvalidFiles() async throws {
        let harness = try SwarmHarness()
        let content = harness.root.appendingPathComponent("content")
        let torrent = try harness.makeTorrent(name: "w.bin", files: nil, singleSize: 30_000, pieceLength: 16 << 10, in: content,
                                              seed: 5, trackers: [])
        let watched = harness.root.appendingPathComponent("watch")
        try FileManager.default.createDirectory(at: watched, withIntermediateDirectories: true)
        let session = try await harness.startSession("a")
        let folder = WatchFolder(directory: watched.path, afterAdding: .rename, pollInterval: .milliseconds(300))
        let events = EventLog()
        let task = Task { await folder.run(session: session) { await events.append($0) } }
        // Written in two steps: the half-written file must not be read.
        let bytes = torrent.fileBytes
        try Data(bytes.prefix(bytes.count / 2)).write(to: watched.appendingPathComponent("w.torrent"))
        try await Task.sleep(for: .milliseconds(100))
        try Data(bytes).write(to: watched.appendingPathComponent("w.torrent"))
        try Data(bytes).write(to: watched.appendingPathComponent("copy.torrent"))
        try Data("garbage".utf8).write(to: watched.appendingPathComponent("junk.torrent"))
        let done = await harness.waitUntil(timeout: .seconds(30)) { await events.count == 3 }
        #expect(done)
        #expect(await session.snapshot().torrents.map(\.id) == [torrent.infoHash], "the same torrent twice is added once")
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: watched.path))
        #expect(names == ["w.torrent.added", "copy.torrent.added", "junk.torrent.invalid"])
        #expect(await events.problems.contains { $0.contains("junk.torrent") && $0.contains("invalid torrent") })
        task.cancel()
        await task.value
        await harness.stopAll()
    }

    /// 300 torrents dropped at once go in as batches saved together (their copies with one
    /// directory sync, their records in one journal append): all of them come back after a
    /// restart, none twice, in the order added.
    @Test func aWatchFolderBatchIsSavedTogether() async throws {
        let harness = try SwarmHarness()
        let content = harness.root.appendingPathComponent("content")
        let state = harness.root.appendingPathComponent("state").path
        let watched = harness.root.appendingPathComponent("watch")
        try FileManager.default.createDirectory(at: watched, withIntermediateDirectories: true)
        var hashes: [InfoHash] = []
        for index in 0..<300 {
            let torrent = try harness.makeTorrent(name: "b\(index).bin", files: nil, singleSize: 1_000, pieceLength: 16 << 10,
                                                  in: content, seed: UInt64(500 + index), trackers: [])
            try Data(torrent.fileBytes).write(to: watched.appendingPathComponent(String(format: "b%03d.torrent", index)))
            hashes.append(torrent.infoHash)
        }
        let session = try await harness.startSession("a") { $0.stateDirectory = state }
        #expect(await session.restore().isEmpty)
        let folder = WatchFolder(directory: watched.path, afterAdding: .delete, pollInterval: .milliseconds(300))
        let events = EventLog()
        let task = Task { await folder.run(session: session) { await events.append($0) } }
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await events.count == 300 })
        #expect(await events.problems.isEmpty)
        task.cancel()
        await task.value
        #expect(await session.snapshot().torrents.map(\.id) == hashes)
        // Read back before the shutdown's full save: from the journal the batches appended.
        let journaled = try SessionStore(directory: state).loadSession().torrents.map(\.infoHash)
        #expect(journaled == hashes.map(\.hex))
        await harness.stopAll()
    }

    /// A .magnet file adds the magnet (fetching its metadata); a bad one is set aside.
    @Test func watchFolderTakesMagnetFiles() async throws {
        let harness = try SwarmHarness()
        let watched = harness.root.appendingPathComponent("watch")
        try FileManager.default.createDirectory(at: watched, withIntermediateDirectories: true)
        let session = try await harness.startSession("a")
        let folder = WatchFolder(directory: watched.path, afterAdding: .rename, pollInterval: .milliseconds(300))
        let events = EventLog()
        let task = Task { await folder.run(session: session) { await events.append($0) } }
        let hash = InfoHash(bytes: [UInt8](repeating: 0x3C, count: 20))!
        try Data((MagnetLink(infoHash: hash, displayName: "from a file").uri + "\n").utf8).write(to: watched.appendingPathComponent("a.magnet"))
        try Data("magnet:?xt=urn:btih:nothex".utf8).write(to: watched.appendingPathComponent("bad.magnet"))
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await events.count == 2 })
        let torrents = await session.snapshot().torrents
        #expect(torrents.map(\.id) == [hash] && torrents.first?.activity == .metadata && torrents.first?.name == "from a file")
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: watched.path))
        #expect(names == ["a.magnet.added", "bad.magnet.invalid"])
        #expect(await events.problems.contains { $0.contains("bad.magnet") && $0.contains("invalid magnet link") })
        task.cancel()
        await task.value
        await harness.stopAll()
    }
}

actor EventLog {
    private var events: [WatchFolder.Event] = []
    func append(_ event: WatchFolder.Event) { events.append(event) }
    var count: Int { events.count }
    var problems: [String] { events.compactMap { event in event.problem.map { "\(event.file): \($0)" } } }
}
