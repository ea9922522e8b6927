import Foundation
import ShoalCore

/// What a front end sees of the engine: immutable values, published a few times a second.
public struct SessionSnapshot: Sendable {
    public var torrents: TorrentList
    public var downloadRate: Double
    public var uploadRate: Double
    public var listenPort: UInt16
    public var downloadLimit: Int
    public var uploadLimit: Int
    public var downloadDirectory: String
    /// Nodes in the DHT routing table; nil when the DHT is off.
    public var dhtNodes: Int? = nil
    /// Incoming connections closed before they named a torrent of ours (bad or unknown handshakes).
    public var refusedIncoming = CloseCounts()

    /// Whether the alternative limits are the ones in force (see `AltSpeed`).
    public var altSpeedEnabled = false

    public static let empty = SessionSnapshot(torrents: [], downloadRate: 0, uploadRate: 0, listenPort: 0,
                                              downloadLimit: 0, uploadLimit: 0, downloadDirectory: "")

    public init(torrents: TorrentList, downloadRate: Double, uploadRate: Double, listenPort: UInt16, downloadLimit: Int,
                uploadLimit: Int, downloadDirectory: String)
    {
        self.torrents = torrents
        self.downloadRate = downloadRate
        self.uploadRate = uploadRate
        self.listenPort = listenPort
        self.downloadLimit = downloadLimit
        self.uploadLimit = uploadLimit
        self.downloadDirectory = downloadDirectory
    }

    public init(torrents: [TorrentSnapshot], downloadRate: Double, uploadRate: Double, listenPort: UInt16, downloadLimit: Int,
                uploadLimit: Int, downloadDirectory: String)
    {
        self.init(torrents: TorrentList(torrents), downloadRate: downloadRate, uploadRate: uploadRate, listenPort: listenPort,
                  downloadLimit: downloadLimit, uploadLimit: uploadLimit, downloadDirectory: downloadDirectory)
    }
}

public enum TorrentActivity: String, Sendable, Codable {
    case checking, downloading, seeding, paused, finished, error
    /// Waiting for a download or seeding slot (see `QueuePlanner`).
    case queued
    /// A magnet link fetching its info dictionary from peers.
    case metadata = "fetching metadata"
}

public struct TorrentSnapshot: Sendable, Identifiable, Equatable {
    public var id: InfoHash
    public var name: String
    public var totalSize: Int64
    public var wantedSize: Int64
    public var haveSize: Int64
    public var activity: TorrentActivity
    public var error: String?
    public var downloadRate: Double
    public var uploadRate: Double
    public var downloaded: Int64
    public var uploaded: Int64
    /// Seconds to completion at the current rate, nil when unknown or done.
    public var eta: Int?
    public var pieces: Bitfield
    public var piecesInProgress: [Int]
    public var availability: [Int]
    public var peers: [PeerSnapshot]
    public var trackers: [TrackerSnapshot]
    public var files: [FileSnapshot]
    public var downloadDirectory: String
    public var isPrivate: Bool
    /// Pieces that failed their hash check, and peers banned for sending bad data.
    public var hashFailures: Int
    public var bannedPeers: Int
    /// Pieces read and hashed by the check at start (resume data spares the rest).
    public var piecesHashedOnCheck: Int
    /// How this torrent's connections ended since it started (and dials that failed).
    public var closeReasons = CloseCounts()
    /// What remotes show besides: the metainfo's details and the entry's settings.
    public var details = TorrentDetails()
    /// Its data being moved to another directory, and how far that has come.
    public var move: MoveSnapshot?

    /// Fraction of the wanted bytes we have (1 when nothing is wanted).
    public var progress: Double {
        if activity == .metadata { return 0 }
        return wantedSize == 0 ? 1 : Double(haveSize) / Double(wantedSize)
    }
    /// A magnet still fetching its metadata has nothing yet, whatever its (unknown) size.
    public var isComplete: Bool { activity != .metadata && haveSize >= wantedSize }
    public var seedCount: Int { peers.filter { $0.progress >= 1 }.count }
    public var ratio: Double { downloaded == 0 ? (uploaded > 0 ? .infinity : 0) : Double(uploaded) / Double(downloaded) }
}

public struct PeerSnapshot: Sendable, Hashable {
    public var address: String
    public var client: String
    /// Transmission's letters: O optimistic, D/d downloading/wanting, U/u uploading/wanted,
    /// K unchoked but uninterested, ? they unchoked us but we are not interested, I incoming.
    public var flags: String
    public var downloadRate: Double
    public var uploadRate: Double
    public var progress: Double
    public var pieces: Bitfield
}

public struct TrackerSnapshot: Sendable, Hashable {
    public var url: String
    public var tier: Int
    public var status: String
    public var error: String?
    public var lastAnnounce: ContinuousClock.Instant?
    public var nextAnnounce: ContinuousClock.Instant?
    public var seeders: Int?
    public var leechers: Int?
    /// Downloads the tracker saw complete, from its scrape.
    public var completed: Int? = nil
    public var lastScrape: ContinuousClock.Instant? = nil
    public var peersReturned: Int
}

public struct FileSnapshot: Sendable, Hashable {
    public var path: String
    public var size: Int64
    public var haveSize: Int64
    public var priority: FilePriority
}

/// A torrent's particulars that change rarely or never, for remotes and detail views.
public struct TorrentDetails: Sendable, Hashable {
    public var pieceLength = 0
    public var comment: String?
    public var createdBy: String?
    /// Seconds since 1970, from the metainfo.
    public var creationDate: Int64?
    public var added: Date?
    public var completed: Date?
    /// When data last moved either way (nil: never, that Shoal knows).
    public var lastActivity: Date?
    public var labels: [String] = []
    public var seedRatio = SeedRatioGoal.session
    /// Its own connection limit (nil: the session's `peer-limit-per-torrent`).
    public var peerLimit: Int?
    /// Per-torrent caps in bytes per second, 0 = none.
    public var uploadLimit = 0
    public var downloadLimit = 0
    public var magnetURI: String?
    /// A single-file torrent's one file is the torrent's name; a multi-file one's are below it.
    public var isSingleFile = true
    /// The download directory the torrent's top-level file or folder is in.
    public var location = ""
    /// Downloading in order, for watching or listening while it comes.
    public var sequential = false
    /// Its web seeds (BEP 19), in the torrent's order.
    public var webSeeds: [WebSeedSnapshot] = []
    public init() {}
}

/// One web seed as the Peers tab (`W`) and remotes show it.
public struct WebSeedSnapshot: Sendable, Hashable {
    public var server: WebSeedSchedule.Server
    public var downloadRate: Double

    public init(server: WebSeedSchedule.Server, downloadRate: Double) {
        self.server = server
        self.downloadRate = downloadRate
    }

    public var url: String { server.url }
    public var downloaded: Int64 { server.received }
    /// A request is under way (Transmission's `webseedsSendingToUs`).
    public var isSending: Bool { server.inFlight > 0 && server.droppedFor == nil }
    /// "downloading", "idle", "retry in 30 s: …" or "dropped: …", the wait counted from `now`
    /// (a quiet torrent's snapshot is kept a while).
    public func status(now: ContinuousClock.Instant) -> String { WebSeedSchedule.status(of: server, now: now) }
}
