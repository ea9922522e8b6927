import Foundation
import ShoalCore
import Synchronization

/// The state directory: which torrents the session has and how each was left, plus per-torrent
/// resume data. Layout: `session.json`, `torrents/HASH.torrent`, `resume/HASH.json`.
public struct SessionStore: Sendable {
    public struct Entry: Codable, Sendable, Equatable {
        public var infoHash: String
        public var downloadDirectory: String
        public var paused: Bool
        public var seedWhenDone: Bool
        public var filePriorities: [Int]
        public var added: Date
        public var completed: Date?
        public var uploaded: Int64
        public var downloaded: Int64
        /// Per-torrent caps in bytes per second (absent in files from before they existed).
        public var uploadLimit: Int?
        public var downloadLimit: Int?
        /// A magnet link still fetching its metadata (no .torrent file saved yet).
        public var magnet: String?
        /// Set through the RPC (absent in older files: none, and the session's ratio goal).
        public var labels: [String]? = nil
        public var seedRatio: SeedRatioGoal? = nil
        /// The user's trackers in place of the metainfo's (absent: the metainfo's).
        public var trackers: [[String]]? = nil
        public var sequential: Bool? = nil
        /// When data last moved (absent in older files, and for a torrent that never moved any).
        public var activity: Date? = nil
        /// The torrent's own connection limit (absent: the session's).
        public var peerLimit: Int? = nil
    }

    /// Session settings a remote changes while running, kept for the next start.
    public struct RemoteSettings: Codable, Sendable, Equatable {
        public var altSpeed: AltSpeed
        /// The session's ratio goal as last set through the RPC (nil inside: no goal).
        public var seedRatioLimit: Double?
        /// Where new torrents go, as a remote's `session-set download-dir` left it (absent in
        /// files from before it was kept).
        public var downloadDirectory: String? = nil
        /// Transmission's `start-added-torrents`: false adds torrents paused.
        public var startAddedTorrents: Bool? = nil
        /// The peer port and connection limits a remote set (absent: as the flags have them).
        public var peers: PeerSettings? = nil
        public init(altSpeed: AltSpeed, seedRatioLimit: Double?, downloadDirectory: String? = nil, startAddedTorrents: Bool? = nil,
                    peers: PeerSettings? = nil) {
            self.altSpeed = altSpeed
            self.seedRatioLimit = seedRatioLimit
            self.downloadDirectory = downloadDirectory
            self.startAddedTorrents = startAddedTorrents
            self.peers = peers
        }
    }

    /// What a remote set of `peer-port`, `peer-limit-global` and `peer-limit-per-torrent`;
    /// nil for each it left alone.
    public struct PeerSettings: Codable, Sendable, Equatable {
        public var port: UInt16?
        public var limitGlobal: Int?
        public var limitPerTorrent: Int?
        public init(port: UInt16? = nil, limitGlobal: Int? = nil, limitPerTorrent: Int? = nil) {
            self.port = port
            self.limitGlobal = limitGlobal
            self.limitPerTorrent = limitPerTorrent
        }
    }

    /// The global rate caps set while running (bytes per second, 0 = none).
    public struct Limits: Codable, Sendable, Equatable {
        public var upload: Int
        public var download: Int
    }

    struct Document: Codable {
        var version = 1
        var torrents: [Entry]
        /// Absent in files from before limits were kept.
        var limits: Limits?
        var remote: RemoteSettings? = nil
        /// The journal that follows this file (see `SessionJournal`; absent before journals: 0).
        var journal: Int? = nil
    }

    /// What the last run left: the session file with its journals applied.
    public struct Saved: Sendable {
        public var torrents: [Entry] = []
        public var limits: Limits?
        public var remote: RemoteSettings?
        /// The journal to append to, and how many records it and the ones before it hold.
        public var journal = 0
        public var journalRecords = 0
        /// Damaged journal lines, skipped.
        public var problems: [String] = []
    }

    public let directory: String
    /// Shared by every copy of this value: the writes of one session take turns.
    let writes = DurableWriteQueue()
    /// The journal the last whole session file written names.
    let writtenJournal = JournalMark()

    public init(directory: String) {
        self.directory = directory
    }

    var sessionPath: String { directory + "/session.json" }
    func torrentPath(_ hash: InfoHash) -> String { directory + "/torrents/\(hash.hex).torrent" }
    func resumePath(_ hash: InfoHash) -> String { directory + "/resume/\(hash.hex).json" }

    public func loadEntries() throws -> [Entry] { try loadSession().torrents }

    /// The torrents and settings of the last run: the session file, then every journal that
    /// follows it, in order.
    public func loadSession() throws -> Saved {
        var saved = Saved()
        var following = 0
        if let data = FileManager.default.contents(atPath: sessionPath) {
            do {
                let document = try SessionFileReader.read(Array(data)) ?? JSONDecoder().decode(Document.self, from: data)
                (saved.torrents, saved.limits, saved.remote) = (document.torrents, document.limits, document.remote)
                following = document.journal ?? 0
            } catch {
                throw StorageError("\(sessionPath): unreadable session state (\(error)); moved aside")
            }
        }
        saved.journal = following
        for generation in SessionJournal.generations(in: directory) where generation >= following {
            let (records, problems) = SessionJournal.read(SessionJournal.path(directory, generation: generation))
            SessionJournal.apply(records, to: &saved.torrents, limits: &saved.limits, remote: &saved.remote)
            saved.problems += problems
            saved.journalRecords += records.count
            saved.journal = generation
        }
        return saved
    }

    /// Writes the whole session file, followed by journal `journal` (begun by the caller before
    /// it gathered `entries`), and removes the journals it makes redundant. A write overtaken
    /// by a later one (a higher journal) is skipped: that one says more.
    public func saveEntries(_ entries: [Entry], limits: Limits? = nil, remote: RemoteSettings? = nil, journal: Int = 0) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(Document(torrents: entries, limits: limits, remote: remote, journal: journal))
        let (path, directory, written) = (sessionPath, self.directory, writtenJournal)
        try await writes.run {
            guard written.advance(to: journal) else { return }
            try AtomicFile.write(data, to: path)
            for old in SessionJournal.generations(in: directory) where old < journal {
                unlink(SessionJournal.path(directory, generation: old))
            }
        }
    }

    /// Changes, appended to journal `journal` and synced together, after every write queued before them.
    func append(_ records: [SessionJournal.Record], journal: Int) async throws {
        let path = SessionJournal.path(directory, generation: journal)
        try await writes.run { try SessionJournal.append(records, to: path) }
    }

    var dhtPath: String { directory + "/dht.json" }

    /// The DHT's id and routing table from the last run (nil when absent or unreadable: the
    /// DHT then starts afresh, which costs only a bootstrap).
    public func loadDHT() -> DHTNode.SavedState? {
        guard let data = FileManager.default.contents(atPath: dhtPath) else { return nil }
        return try? JSONDecoder().decode(DHTNode.SavedState.self, from: data)
    }

    public func saveDHT(_ state: DHTNode.SavedState) async throws {
        let data = try JSONEncoder().encode(state), path = dhtPath
        try await writes.run { try AtomicFile.write(data, to: path) }
    }

    /// A corrupt session file is kept for the user to look at, not overwritten.
    public func moveAsideBrokenSession() {
        _ = rename(sessionPath, sessionPath + ".broken")
    }

    /// A torrent's copy, kept as first written unless `replacing` (a v2 torrent file whose
    /// piece layers came from its peers since).
    public func saveTorrent(_ metainfo: Metainfo, bytes: [UInt8], replacing: Bool = false) async throws {
        let path = torrentPath(metainfo.infoHash)
        try await writes.run {
            guard replacing || !FileManager.default.fileExists(atPath: path) else { return }
            try AtomicFile.write(Data(bytes), to: path)
        }
    }

    /// Several torrents' copies in one write (see `AtomicFile.write(_:in:)`).
    func saveTorrents(_ metainfos: [Metainfo]) async throws {
        let files = metainfos.map { (data: Data($0.fileBytes), path: torrentPath($0.infoHash)) }
        let directory = self.directory + "/torrents"
        try await writes.run {
            try AtomicFile.write(files.filter { !FileManager.default.fileExists(atPath: $0.path) }, in: directory)
        }
    }

    public func hasTorrent(_ hash: InfoHash) -> Bool { FileManager.default.fileExists(atPath: torrentPath(hash)) }

    public func loadTorrent(_ hash: InfoHash) throws -> Metainfo {
        guard let data = FileManager.default.contents(atPath: torrentPath(hash)) else {
            throw StorageError("\(torrentPath(hash)) is missing")
        }
        do {
            return try Metainfo(bytes: Array(data))
        } catch {
            throw StorageError("\(torrentPath(hash)): \(error.description)")
        }
    }

    public func saveResume(_ resume: ResumeData, for hash: InfoHash) async throws {
        let data = try JSONEncoder().encode(resume), path = resumePath(hash)
        try await writes.run { try AtomicFile.write(data, to: path) }
    }

    /// Queues a resume save without waiting: `flush` (the torrent's fsync) runs first, on the
    /// queue too, so the record never claims more than the disk holds. `drainWrites` waits for it.
    func submitResume(_ resume: ResumeData, for hash: InfoHash, flush: @escaping @Sendable () -> Void,
                      failed: @escaping @Sendable (any Error) -> Void) {
        let path = resumePath(hash)
        writes.submit({
            flush()
            try AtomicFile.write(try JSONEncoder().encode(resume), to: path)
        }, failed: failed)
    }

    /// Returns once every write asked for so far has landed.
    public func drainWrites() async { await writes.drain() }

    public func loadResume(_ hash: InfoHash) -> ResumeData? {
        guard let data = FileManager.default.contents(atPath: resumePath(hash)) else { return nil }
        return ResumeDataReader.read(Array(data)) ?? (try? JSONDecoder().decode(ResumeData.self, from: data))
    }

    /// Removals take their turn after the writes asked before them, which would otherwise
    /// bring the files back.
    public func forgetResume(_ hash: InfoHash) async {
        let path = resumePath(hash)
        _ = try? await writes.run { try? FileManager.default.removeItem(atPath: path) }
    }

    public func forget(_ hash: InfoHash) async {
        let paths = [torrentPath(hash), resumePath(hash)]
        _ = try? await writes.run { for path in paths { try? FileManager.default.removeItem(atPath: path) } }
    }
}

/// The highest journal a whole session file has named, so an older write is not put over it.
final class JournalMark: Sendable {
    private let value = Mutex<Int>(-1)

    /// Moves the mark to `journal` unless it is already past it.
    func advance(to journal: Int) -> Bool {
        value.withLock { mark in
            guard journal >= mark else { return false }
            mark = journal
            return true
        }
    }
}
