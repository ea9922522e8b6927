import Foundation
import ShoalCore

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
        public init(altSpeed: AltSpeed, seedRatioLimit: Double?, downloadDirectory: String? = nil, startAddedTorrents: Bool? = nil) {
            self.altSpeed = altSpeed
            self.seedRatioLimit = seedRatioLimit
            self.downloadDirectory = downloadDirectory
            self.startAddedTorrents = startAddedTorrents
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
    }

    public let directory: String
    /// Shared by every copy of this value: the writes of one session take turns.
    let writes = DurableWriteQueue()

    public init(directory: String) {
        self.directory = directory
    }

    var sessionPath: String { directory + "/session.json" }
    func torrentPath(_ hash: InfoHash) -> String { directory + "/torrents/\(hash.hex).torrent" }
    func resumePath(_ hash: InfoHash) -> String { directory + "/resume/\(hash.hex).json" }

    public func loadEntries() throws -> [Entry] { try loadSession().torrents }

    /// The torrents and the global limits of the last run.
    public func loadSession() throws -> (torrents: [Entry], limits: Limits?, remote: RemoteSettings?) {
        guard let data = FileManager.default.contents(atPath: sessionPath) else { return ([], nil, nil) }
        do {
            let document = try JSONDecoder().decode(Document.self, from: data)
            return (document.torrents, document.limits, document.remote)
        } catch {
            throw StorageError("\(sessionPath): unreadable session state (\(error)); moved aside")
        }
    }

    public func saveEntries(_ entries: [Entry], limits: Limits? = nil, remote: RemoteSettings? = nil) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(Document(torrents: entries, limits: limits, remote: remote))
        let path = sessionPath
        try await writes.run { try AtomicFile.write(data, to: path) }
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

    public func saveTorrent(_ metainfo: Metainfo, bytes: [UInt8]) async throws {
        let path = torrentPath(metainfo.infoHash)
        try await writes.run {
            guard !FileManager.default.fileExists(atPath: path) else { return }
            try AtomicFile.write(Data(bytes), to: path)
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
        FileManager.default.contents(atPath: resumePath(hash)).flatMap { try? JSONDecoder().decode(ResumeData.self, from: $0) }
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
