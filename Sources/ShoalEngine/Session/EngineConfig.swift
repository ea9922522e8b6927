import Logging
import ShoalCore

/// Settings of one engine instance.
public struct EngineConfig: Sendable {
    /// Defaults the command line also offers as settings (`RunSettings` declares those from these).
    public enum Defaults {
        public static let maxPeersPerTorrent = 50
        public static let maxPeersTotal = 500
        public static let minimumAnnounceIntervalSeconds = 30
        public static let trackerRequestsPerSecond = 50
    }

    public var downloadDirectory: String
    /// 0 picks a free port.
    public var listenPort: UInt16
    /// Where the listeners bind, all on one port (the first address also picks the port). Tests
    /// and the demo use 127.0.0.1.
    public var bindAddresses: [String]
    /// Our global IPv6 address, told to trackers as `ipv6=` (BEP 7); the session finds it from
    /// the bind addresses and the interfaces when it starts.
    public var announcedIPv6: String?
    /// The first listening address (the DHT's, when it is IPv4).
    public var bindAddress: String {
        get { bindAddresses.first ?? "0.0.0.0" }
        set { bindAddresses = [newValue] }
    }
    public var peerID: PeerID
    /// Bytes per second; 0 = unlimited.
    public var uploadLimit: Int
    public var downloadLimit: Int
    public var maxPeersPerTorrent: Int
    public var uploadSlots: Int
    /// Shortest wait between announces, whatever a tracker says (keeps tests fast and bounded).
    public var minimumAnnounceInterval: Duration
    /// Announces and scrapes a second, all torrents together (0: no limit; see `TrackerRequestPacer`).
    public var trackerRequestsPerSecond = Defaults.trackerRequestsPerSecond
    public var trackerTimeout: Duration
    public var snubTimeout: Duration
    /// BEP 15 retransmission: first timeout and number of tries (the spec's 15 s doubling).
    public var udpTrackerRetry: UDPTrackerClient.Retry
    /// Where the session and resume data live; nil keeps nothing between runs.
    public var stateDirectory: String?
    /// Whether `restore()` brings back the global limits the user set last run (off when this
    /// run's own settings name them: flags win).
    public var restoresGlobalLimits = true
    /// The same for the download directory a remote set last run (false: this run names one).
    public var restoresDownloadDirectory = true
    /// The same for the peer port and the two connection limits a remote set (see
    /// `SessionStore.PeerSettings`), each off when this run's flags or config file name it.
    public var restoresPeerPort = true
    public var restoresPeerLimitGlobal = true
    public var restoresPeerLimitPerTorrent = true
    /// How often the session file (every torrent's totals and state) is saved while running.
    public var sessionSaveInterval: Duration = .seconds(60)
    /// How often resume data is saved while running (also on completion and on exit).
    public var resumeSaveInterval: Duration = .seconds(30)
    /// How often a torrent with no peers and nothing new to save looks at its files (a
    /// vanished file makes it stop with an error). At 30 s, 100,000 idle seeds woke 3,300
    /// times a second to find their files in place; Transmission and qBittorrent do not look
    /// at all until they read. A peer arriving makes it `resumeSaveInterval` again.
    public var idleFileCheckInterval: Duration = .seconds(15 * 60)
    /// How many restored seeds start per second (see `StartPacer`); torrents with pieces to
    /// fetch start at once, ahead of them.
    public var restoredSeedStartsPerSecond = 2_000
    /// The Mainline DHT (BEP 5): on where `dhtBootstrap` names nodes to start from.
    public var dhtEnabled = false
    /// uTP on the peer port: peers' uTP connections taken, dials uTP first (BEP 29).
    public var utpEnabled = false
    public var dhtBootstrap: [PeerAddress] = []
    /// How often each public torrent is looked up and announced in the DHT.
    public var dhtAnnounceInterval: Duration = .seconds(15 * 60)
    /// A peer that sends no complete message for this long is dropped (BEP 3 suggests two
    /// minutes; keep-alives count). Also bounds a peer that stalls mid-message.
    public var peerIdleTimeout: Duration = .seconds(150)
    /// When a torrent is full, a newcomer takes the slot of a peer with which neither side has
    /// been interested for this long; after `uselessPeerTimeout` such a peer goes anyway.
    public var slotReplaceAfter: Duration = .seconds(30)
    public var uselessPeerTimeout: Duration = .seconds(600)
    /// How long a connection may take to send its handshake (the encrypted one included).
    public var handshakeTimeout: Duration = .seconds(10)
    /// Moves copy the data even within one filesystem, as they must across two: lets tests see
    /// a copy's progress and failures without a second filesystem.
    var movesCopy = false
    /// Message Stream Encryption for peer connections (see `EncryptionPolicy`).
    public var encryption = EncryptionPolicy.prefer
    /// Super-seeding (BEP 16) for torrents that are complete when they start: each peer is
    /// shown one piece at a time, so an initial seeder's upload spreads further.
    public var superSeeding = false
    /// Connections across all torrents (each torrent also has `maxPeersPerTorrent`).
    public var maxPeersTotal = Defaults.maxPeersTotal
    /// Seeding goals: a complete torrent stops seeding once it has uploaded this many times its
    /// size, or this long after it completed (nil: no goal).
    public var seedRatioLimit: Double?
    public var seedTimeLimit: Duration?
    /// The alternative ("turtle") limits in bytes per second, when the command line or the
    /// config file gives them (else what a remote set last, or Transmission's 50 kB/s).
    public var altUploadLimit: Int?
    public var altDownloadLimit: Int?
    /// When the alternative limits switch themselves on and off (local time).
    public var altSpeedSchedule: AltSpeedSchedule?
    /// Queueing: at most this many torrents downloading, and seeding, at once (0 = no limit);
    /// a download that received nothing for `queueStalledAfter` gives up its slot.
    public var maxActiveDownloads = 0
    public var maxActiveSeeds = 0
    public var queueStalledAfter: Duration = .seconds(30 * 60)
    /// How long a DHT query waits for its answer.
    public var dhtQueryTimeout: Duration = .seconds(2)
    /// Peer exchange (BEP 11), for public torrents.
    public var pexEnabled = true
    /// How often peer exchange messages go to each peer (BEP 11: at most once a minute).
    public var pexInterval: Duration = .seconds(60)
    /// How often every tracker is scraped for its counts (Transmission also uses 30 minutes).
    public var scrapeInterval: Duration = .seconds(30 * 60)

    /// Where the engine says what it does and why (connections closed, bans, tracker and disk
    /// errors), with torrent and peer metadata. Silent unless the front end gives one.
    public var logger = Logger(label: "shoal", factory: { _ in SwiftLogNoOpLogHandler() })
    /// Where the interface's Log view reads the log from (fed by `logger`), if anywhere.
    public var recentLog: RecentLog?

    /// The first retry after every tracker failed; doubled on each failure up to 30 minutes.
    public var announceFirstBackoff: Duration = .seconds(15)
    /// The announce timing every torrent and magnet follows.
    public var announcePolicy: AnnounceSchedule.Policy {
        AnnounceSchedule.Policy(floor: minimumAnnounceInterval, firstBackoff: announceFirstBackoff)
    }

    public init(downloadDirectory: String, listenPort: UInt16 = 6881, bindAddress: String = "0.0.0.0",
                peerID: PeerID = .generate(), uploadLimit: Int = 0, downloadLimit: Int = 0,
                maxPeersPerTorrent: Int = Defaults.maxPeersPerTorrent, uploadSlots: Int = 4,
                minimumAnnounceInterval: Duration = .seconds(Defaults.minimumAnnounceIntervalSeconds),
                trackerTimeout: Duration = .seconds(15), snubTimeout: Duration = .seconds(60),
                udpTrackerRetry: UDPTrackerClient.Retry = .init()) {
        self.downloadDirectory = downloadDirectory
        self.listenPort = listenPort
        self.bindAddresses = [bindAddress]
        self.peerID = peerID
        self.uploadLimit = uploadLimit
        self.downloadLimit = downloadLimit
        self.maxPeersPerTorrent = maxPeersPerTorrent
        self.uploadSlots = uploadSlots
        self.minimumAnnounceInterval = minimumAnnounceInterval
        self.trackerTimeout = trackerTimeout
        self.snubTimeout = snubTimeout
        self.udpTrackerRetry = udpTrackerRetry
    }
}
