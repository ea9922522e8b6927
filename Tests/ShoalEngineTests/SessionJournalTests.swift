import Foundation
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Testing

/// The session file and its journals: a change costs a line, every crash point leaves a
/// readable whole, damage is reported and the rest recovered.
@Suite("Session journal", .serialized)
struct SessionJournalTests {
    static func entry(_ byte: UInt8, label: String? = nil) -> SessionStore.Entry {
        SessionStore.Entry(infoHash: String(repeating: String(format: "%02x", byte), count: 20), downloadDirectory: "/d", paused: true,
                           seedWhenDone: true, filePriorities: [1], added: Date(timeIntervalSince1970: 1_000), completed: nil,
                           uploaded: Int64(byte), downloaded: 0, labels: label.map { [$0] })
    }

    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-journal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func recordsReplayInOrder() {
        var torrents = [Self.entry(1), Self.entry(2)]
        var limits: SessionStore.Limits?
        var remote: SessionStore.RemoteSettings?
        SessionJournal.apply([.put(Self.entry(3)), .put(Self.entry(1, label: "changed")), .remove(infoHash: Self.entry(2).infoHash),
                              .settings(limits: .init(upload: 5, download: 6), remote: nil), .put(Self.entry(2, label: "back"))],
                             to: &torrents, limits: &limits, remote: &remote)
        #expect(torrents.map(\.infoHash) == [Self.entry(1), Self.entry(3), Self.entry(2)].map(\.infoHash), "a removed one comes back last")
        #expect(torrents[0].labels == ["changed"] && torrents[2].labels == ["back"])
        #expect(limits == .init(upload: 5, download: 6))
    }

    @Test func aTornLastLineIsDroppedAndADamagedOneReported() throws {
        let directory = try Self.directory()
        let path = SessionJournal.path(directory, generation: 0)
        try SessionJournal.append([.put(Self.entry(1)), .put(Self.entry(2))], to: path)  // one write, two lines
        // A crash in the middle of the third append.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"put":{"_0":{"infoHash":"03"#.utf8))
        try handle.close()
        var read = SessionJournal.read(path)
        #expect(read.records.count == 2 && read.problems.isEmpty, "\(read.problems)")
        // The next append starts a line of its own; the torn one is now in the middle: reported.
        try SessionJournal.append([.put(Self.entry(4))], to: path)
        read = SessionJournal.read(path)
        #expect(read.records == [.put(Self.entry(1)), .put(Self.entry(2)), .put(Self.entry(4))])
        #expect(read.problems.count == 1 && read.problems[0].contains("line 3 is damaged"), "\(read.problems)")
    }

    @Test func aWholeWriteNamesTheJournalThatFollowsIt() async throws {
        let directory = try Self.directory()
        let store = SessionStore(directory: directory)
        try await store.append([.put(Self.entry(1))], journal: 0)
        try await store.append([.put(Self.entry(2))], journal: 0)
        var saved = try store.loadSession()
        #expect(saved.torrents.count == 2 && saved.journal == 0 && saved.journalRecords == 2)
        // Journal 1 begun, then the file written whole, naming it: journal 0 goes.
        try await store.append([.put(Self.entry(3))], journal: 1)
        try await store.saveEntries([Self.entry(1), Self.entry(2)], journal: 1)
        #expect(SessionJournal.generations(in: directory) == [1])
        saved = try store.loadSession()
        #expect(saved.torrents.map(\.infoHash) == [1, 2, 3].map { Self.entry($0).infoHash } && saved.journal == 1)
        // A whole write overtaken by a later one is skipped.
        try await store.saveEntries([Self.entry(1), Self.entry(2), Self.entry(3)], journal: 2)
        try await store.saveEntries([Self.entry(9)], journal: 1)
        saved = try store.loadSession()
        #expect(saved.torrents.count == 3 && saved.journal == 2)
        // A crash after journal 3 began but before the file named it: both journals still read.
        try await store.append([.remove(infoHash: Self.entry(1).infoHash)], journal: 2)
        try await store.append([.put(Self.entry(4))], journal: 3)
        saved = try store.loadSession()
        #expect(saved.torrents.map(\.infoHash) == [2, 3, 4].map { Self.entry($0).infoHash } && saved.journal == 3)
    }

    /// Adds and changes append a line each; the session file is written whole only at shutdown;
    /// the next run has every torrent, in order, with its changes.
    @Test func changesAppendAndComeBack() async throws {
        let harness = try SwarmHarness()
        let state = harness.root.appendingPathComponent("state").path
        let content = harness.root.appendingPathComponent("content")
        let first = try await harness.startSession("a") { $0.stateDirectory = state }
        #expect(await first.restore().isEmpty)
        var hashes: [InfoHash] = []
        for index in 0..<20 {
            let torrent = try harness.makeTorrent(name: "t\(index).bin", files: nil, singleSize: 20_000, pieceLength: 16 << 10, in: content,
                                                  seed: UInt64(100 + index), trackers: [])
            hashes.append(try await first.add(torrent, downloadDirectory: content.path, paused: true))
        }
        try await first.setLabels(hashes[3], ["three"])
        try await first.remove(hashes[5])
        #expect(!FileManager.default.fileExists(atPath: state + "/session.json"), "no whole write for an add or a change")
        let lines = try String(contentsOfFile: SessionJournal.path(state, generation: 0), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 22, "one line per add, one for the label, one for the removal")
        await first.shutdown()
        #expect(FileManager.default.fileExists(atPath: state + "/session.json"))
        #expect(SessionJournal.generations(in: state) == [], "the whole write leaves no journal behind it")

        let second = try await harness.startSession("a") { $0.stateDirectory = state }
        #expect(await second.restore().isEmpty)
        let torrents = await second.snapshot().torrents
        #expect(torrents.map(\.id) == hashes.enumerated().filter { $0.offset != 5 }.map(\.element))
        #expect(torrents.first { $0.id == hashes[3] }?.details.labels == ["three"])
        await harness.stopAll()
    }

    /// A session that never restored writes the file whole on its first change, and the
    /// journals an earlier run left do not come back over it.
    @Test func anUnrestoredSessionReplacesOldJournals() async throws {
        let harness = try SwarmHarness()
        let state = harness.root.appendingPathComponent("state").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try SessionJournal.append([.put(Self.entry(7))], to: SessionJournal.path(state, generation: 5))
        let session = try await harness.startSession("a") { $0.stateDirectory = state }
        let content = harness.root.appendingPathComponent("content")
        let torrent = try harness.makeTorrent(name: "only.bin", files: nil, singleSize: 20_000, pieceLength: 16 << 10, in: content,
                                              seed: 77, trackers: [])
        let hash = try await session.add(torrent, downloadDirectory: content.path, paused: true)
        let saved = try SessionStore(directory: state).loadSession()
        #expect(saved.torrents.map(\.infoHash) == [hash.hex], "\(saved.torrents.map(\.infoHash))")
        #expect(SessionJournal.generations(in: state).allSatisfy { $0 > 5 })
        await harness.stopAll()
    }

    /// The minute's save through two simulated hours of rounds: a running torrent's record is
    /// appended in the rounds after its totals moved and in no other, a paused one never.
    @Test func theMinuteSaveAppendsOnlyWhatMovedRoundAfterRound() async throws {
        let harness = try SwarmHarness()
        let state = harness.root.appendingPathComponent("state").path
        let content = harness.root.appendingPathComponent("content")
        let session = try await harness.startSession("a") { $0.stateDirectory = state }
        #expect(await session.restore().isEmpty)
        let running = try harness.makeTorrent(name: "running.bin", files: nil, singleSize: 20_000, pieceLength: 16 << 10,
                                              in: content, seed: 81, trackers: [])
        let resting = try harness.makeTorrent(name: "resting.bin", files: nil, singleSize: 20_000, pieceLength: 16 << 10,
                                              in: content, seed: 82, trackers: [])
        let hash = try await session.add(running, downloadDirectory: harness.root.appendingPathComponent("empty").path)
        let pausedHash = try await session.add(resting, downloadDirectory: content.path, paused: true)
        let runtime = try await session.torrentRuntime(hash)
        let journal = SessionJournal.path(state, generation: 0)
        func records() -> [SessionJournal.Record] { SessionJournal.read(journal).records }
        await session.saveChangedTorrents()  // the first round has nothing to compare with: it records
        var count = records().count
        for round in 1...120 {
            let moved = round % 3 == 0
            if moved {
                await runtime.restoreCounters(uploaded: Int64(round) * 1_000, downloaded: 0, completed: nil, activity: Date(),
                                              seedWhenDone: true)
            }
            await session.saveChangedTorrents()
            let now = records()
            #expect(now.count == count + (moved ? 1 : 0), "round \(round)")
            count = now.count
        }
        let saved = records().compactMap { record -> SessionStore.Entry? in
            if case .put(let entry) = record { return entry } else { return nil }
        }
        #expect(saved.last?.infoHash == hash.hex && saved.last?.uploaded == 120_000)
        #expect(saved.filter { $0.infoHash == pausedHash.hex }.count == 1, "the paused torrent only for its add")
        await harness.stopAll()
    }
}
