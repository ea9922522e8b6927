import Foundation
import Logging
import NIOCore
import NIOPosix
import ShoalCore
import Synchronization

/// The engine: owns the listening socket, the torrents and the global rate limits.
///
/// `run()` holds one task group: the accept loop and one child per running torrent. Pausing or
/// removing a torrent ends its child, which cancels everything the torrent started.
public actor Session {
    public let config: EngineConfig
    /// Where peers reach us; a remote may move it (`setPeerPort`).
    nonisolated let port: ListenPort
    public nonisolated var listenPort: UInt16 { port.current }
    let pool: NIOThreadPool
    /// The peer listeners, one per bind address, on `listenPort`.
    var servers: [PeerListener.Server]
    let globalUpload: RateLimiter
    let globalDownload: RateLimiter
    /// Whether `run()` took the listener; if not, `shutdown()` drains it.
    var isRunning = false
    /// Set by `shutdown()`: nothing new is bound after it.
    var hasShutDown = false

    let store: SessionStore?
    let (shutdownSignal, shutdownContinuation) = AsyncStream.makeStream(of: Void.self)
    /// The same for the turtle schedule's loop (a stream has one reader).
    let (scheduleStop, scheduleStopContinuation) = AsyncStream.makeStream(of: Void.self)

    var entries: [InfoHash: Entry] = [:]
    /// The journal changes are appended to, and the records in it and the ones before it since
    /// the session file was last written whole (see `SessionJournal`); ready once `restore()`
    /// or a whole write has said which journal follows the file.
    var journalGeneration = 0
    var journalRecords = 0
    var journalReady = false
    /// What the journal last said of each running torrent (see `saveChangedTorrents`).
    var savedStates: [InfoHash: PersistentState] = [:]
    /// Restored seeds waiting for their start (see `Session+Restore`).
    var pacedStarts: StartPacer<InfoHash>
    /// What the last queue plan took, whether one is put off (see `planQueueSoon`), and how
    /// many were.
    var lastPlanCost: Duration = .zero
    var planLaterAbove = 2_000
    /// The settings runtimes are made with (see `runtimeMaker`).
    var runtimeConfig: SharedConfig?
    var queuePlanPending = false
    /// Hybrid torrents by their v2 hash cut to 20 bytes (see `Metainfo.hybridV2Alias`): a peer
    /// that knows only the v2 half reaches the torrent by it.
    var v2Aliases: [InfoHash: InfoHash] = [:]
    var queuePlansPutOff = 0
    /// Each entry's `restingSlot`, kept with `entries` (see `sharedSnapshots`).
    var restingSlots: [InfoHash: RestingSlot] = [:] { didSet { orderSlots = nil; orderPositions = nil; lastScan = nil } }
    var order: [InfoHash] = [] { didSet { orderSlots = nil; orderPositions = nil; lastScan = nil } }
    /// `restingSlots` in `order`, made again after either changes: a snapshot of 100,000
    /// torrents looked each up by its hash, twice a second.
    var orderSlots: [RestingSlot?]?
    /// The list the last snapshot handed out, whose unchanged chunks the next one reuses.
    var lastList = TorrentList([])
    /// What the last list-only snapshot found, for the next to ask only what may have changed
    /// (see `sharedSnapshots`).
    var lastScan: SnapshotScan?
    /// Each torrent's place in `order`, made with `orderSlots`.
    var orderPositions: [InfoHash: Int]?
    /// Torrents whose kept snapshots may have turned wrong (see `KeptInvalidations`).
    nonisolated let keptInvalidations = KeptInvalidations()
    var errors: [String] = []
    /// The last notices and how many were ever reported (see `notices(after:)`).
    var recentNotices: [String] = []
    var noticeCount = 0
    /// Torrents with a command under way, and the commands waiting for their turn (see `serialized`).
    var commandWaiters: [InfoHash: [CheckedContinuation<Void, Never>]] = [:]
    /// Incoming connections that never reached a torrent, by why (see `Session+Incoming`).
    var refusedIncoming = CloseCounts()
    /// The session-wide ratio goal (starts as `config.seedRatioLimit`; a remote may change it).
    var sessionSeedRatio: Double?
    /// Where torrents go unless told otherwise (starts as `config.downloadDirectory`).
    public var downloadDirectory: String
    /// Transmission's `start-added-torrents`: torrents added by a remote start unless told (false: paused).
    public internal(set) var startAddedTorrents = true
    /// The alternative ("turtle") limits and whether they are the ones in force.
    var altSpeed = AltSpeed()
    nonisolated var logger: Logger { config.logger }
    /// Connections across all torrents, bounded by `maxPeersTotal` (or what a remote set).
    public nonisolated let peerBudget: PeerBudget
    /// Connections each torrent may hold: `maxPeersPerTorrent`, or what a remote set.
    public internal(set) var peerLimitPerTorrent: Int
    /// What of those (and of the port) a remote changed, kept for the next run.
    var remotePeerSettings = SessionStore.PeerSettings()
    /// Where every torrent's and magnet's announces and scrapes wait their turn.
    public nonisolated let trackerGate: TrackerGate
    /// How every connection's bytes travel, dialled or accepted, torrent or magnet.
    nonisolated let transport: any PeerTransport
    /// The session's torrents, for incoming encrypted handshakes (kept with `entries`).
    nonisolated let encryptedTorrents: EncryptedTorrentIndex
    /// Completions and failures as they happen (snapshots say the rest).
    public nonisolated let events = SessionEvents()
    /// The Mainline DHT node, when enabled.
    public nonisolated let dht: DHTNode?
    /// uTP on the peer port, when enabled.
    nonisolated let utp: UTPSockets?
    /// Work for `run()`'s task group: a torrent to run, or a magnet to fetch, each until its
    /// entry's `stop` ends it (a torrent's run through `endRun`, a magnet's through its stream).
    enum Job: Sendable {
        case torrent(TorrentRuntime)
        case magnet(MetadataFetcher, stop: AsyncStream<Void>)
        /// A torrent's data on its way to another directory (see `startMove`).
        case move(InfoHash, directory: String)
        /// A listener on a new port (see `setPeerPort`).
        case listener(PeerListener.Server)
        /// Restored seeds started a few at a time (see `releasePacedStarts`).
        case pacedStarts
        /// A queue plan put off to serve a burst of adds (see `planQueueSoon`).
        case queuePlan(after: Duration)
    }
    let spawns: AsyncStream<Job>
    let spawnContinuation: AsyncStream<Job>.Continuation

    public enum SessionError: Error, CustomStringConvertible {
        case cannotListen(String)
        case duplicate(String)
        case unknownTorrent
        /// Something this session cannot do (say, while running).
        case unsupported(String)
        /// No connection to that address (it may have gone meanwhile).
        case noSuchPeer(String)

        public var description: String {
            switch self {
            case .cannotListen(let why): return "cannot listen for peers: \(why)"
            case .duplicate(let name): return "\(name) is already in the session"
            case .unknownTorrent: return "no such torrent"
            case .unsupported(let what): return what
            case .noSuchPeer(let address): return "no connection to \(address) (it may have closed meanwhile)"
            }
        }
    }

    /// Made by `start` (Session+Start.swift) once the listeners are bound.
    init(config: EngineConfig, servers: [PeerListener.Server], port: UInt16, pool: NIOThreadPool, dht: DHTNode?,
                 transport: any PeerTransport, torrents: EncryptedTorrentIndex, utp: UTPSockets? = nil) {
        self.transport = transport
        self.utp = utp
        self.encryptedTorrents = torrents
        self.dht = dht
        self.peerBudget = PeerBudget(limit: config.maxPeersTotal)
        self.trackerGate = TrackerGate(perSecond: config.trackerRequestsPerSecond)
        // Directories are kept absolute: the session saves them, and a relative one would
        // point elsewhere after a start from another working directory.
        var config = config
        config.downloadDirectory = AbsolutePath.resolve(config.downloadDirectory)
        if config.announcedIPv6 == nil { config.announcedIPv6 = LocalAddresses.announcedIPv6(binds: config.bindAddresses) }
        config.stateDirectory = config.stateDirectory.map(AbsolutePath.resolve)
        self.config = config
        self.sessionSeedRatio = config.seedRatioLimit
        self.downloadDirectory = config.downloadDirectory
        self.servers = servers
        self.port = ListenPort(port)
        self.peerLimitPerTorrent = config.maxPeersPerTorrent
        self.pacedStarts = StartPacer(perSecond: config.restoredSeedStartsPerSecond)
        self.pool = pool
        self.store = config.stateDirectory.map(SessionStore.init(directory:))
        self.globalUpload = RateLimiter(bytesPerSecond: config.uploadLimit)
        self.globalDownload = RateLimiter(bytesPerSecond: config.downloadLimit)
        if let up = config.altUploadLimit { altSpeed.upload = up }
        if let down = config.altDownloadLimit { altSpeed.download = down }
        (spawns, spawnContinuation) = AsyncStream.makeStream(of: Job.self)
    }

    /// Runs until `shutdown()`.
    public func run() async {
        guard !isRunning else { return }
        isRunning = true
        let servers = self.servers
        let spawns = self.spawns
        await withDiscardingTaskGroup { group in
            for server in servers { group.addTask { await self.acceptLoop(server) } }
            group.addTask { await self.saveLoop() }
            group.addTask { await self.housekeepingLoop() }
            if let dht { group.addTask { await dht.run() } }
            if let utp {
                group.addTask {
                    // Ends when `shutdown()` finishes the stream; each connection runs in a task of its own.
                    await withDiscardingTaskGroup { connections in
                        for await accepted in utp.incoming { connections.addTask { await self.handleIncomingUTP(accepted) } }
                    }
                }
            }
            for await job in spawns {
                switch job {
                case .torrent(let runtime):
                    group.addTask { await runtime.run() }
                case .magnet(let fetcher, let stop):
                    group.addTask {
                        let metainfo = await withTaskGroup(of: Metainfo?.self) { fetch in
                            fetch.addTask { await fetcher.run() }
                            fetch.addTask {
                                for await _ in stop {}
                                return nil
                            }
                            let first = await fetch.next() ?? nil
                            fetch.cancelAll()
                            return first
                        }
                        if let metainfo { await self.metadataArrived(metainfo, from: fetcher) }
                    }
                case .move(let hash, let directory):
                    group.addTask { await self.moveInBackground(hash, directory: directory) }
                case .listener(let server):
                    group.addTask { await self.acceptLoop(server) }
                case .pacedStarts:
                    group.addTask { await self.releasePacedStarts() }
                case .queuePlan(let wait):
                    group.addTask {
                        try? await Task.sleep(for: wait)
                        await self.plannedQueueRound()
                    }
                }
            }
            // The accept loop is not cancelled: it ends when `shutdown()` closes the listener, after
            // taking every connection already accepted so none is left open.
        }
        try? await pool.shutdownGracefully()
    }

    /// Torrents in each group stopped at shutdown (see `shutdown`).
    static let stopsPerGroup = 256

    /// Stops every torrent (telling trackers), closes the listener and lets `run()` return.
    public func shutdown() async {
        hasShutDown = true
        shutdownContinuation.finish()
        scheduleStopContinuation.finish()
        // A move under way gives up and leaves the data where it was.
        for entry in entries.values { entry.move?.cancel() }
        // All at once (each may wait up to 3 s for a tracker's `stopped`), in groups of a few
        // hundred: a task group finds an ended child by walking its list of children, so
        // 100,000 children of one group made the quit quadratic (40 s of a 45-second quit).
        let running = entries.values.filter { !$0.paused }.compactMap(\.runtime)
        await withDiscardingTaskGroup { outer in
            for first in stride(from: 0, to: running.count, by: Self.stopsPerGroup) {
                let part = running[first..<min(running.count, first + Self.stopsPerGroup)]
                outer.addTask {
                    await withDiscardingTaskGroup { group in
                        for runtime in part { group.addTask { await runtime.stop() } }
                    }
                }
            }
        }
        await saveSession()
        if let dht {
            do {
                try await store?.saveDHT(await dht.savedState)
            } catch {
                report("cannot save the DHT state: \(error)")
            }
            await dht.shutdown()
        }
        await utp?.shutdown()
        for server in servers { try? await server.channel.close() }
        if !isRunning {
            // Close any connection accepted while nobody was running the listeners.
            isRunning = true
            for server in servers {
                try? await server.executeThenClose { inbound in
                    for try await child in inbound { try? await child.close() }
                }
            }
            try? await pool.shutdownGracefully()
        }
        for hash in entries.keys {
            entries[hash]?.stop?.finish()
            entries[hash]?.stop = nil
        }
        spawnContinuation.finish()
    }

    // MARK: - Snapshots

    /// Every torrent; with `detailed`, only those torrents come with their per-piece, per-file
    /// and per-peer-piece parts (what a list needs is in every one: the interface's list of
    /// 1,000 built and freed a thousand piece tables twice a second to show one).
    public func snapshot(detailed: Set<InfoHash>? = nil) async -> SessionSnapshot {
        let shared = await sharedSnapshots(detailed: detailed)
        let list = TorrentList(shared, reusing: lastList)
        // Kept for the interface's kind of ask (its list, and a torrent or none detailed); a
        // whole detailed snapshot (headless output, RPC) kept would hold every torrent's files,
        // pieces and availability: 450 MiB more at 100,000.
        if detailed != nil { lastList = list }
        var snapshot = sessionSnapshot(list)
        if let dht { snapshot.dhtNodes = await dht.nodeCount }
        return snapshot
    }

    /// The session's figures around its torrents' snapshots.
    func sessionSnapshot(_ torrents: TorrentList) -> SessionSnapshot {
        var snapshot = SessionSnapshot(
            torrents: torrents, downloadRate: torrents.downloadRate,
            uploadRate: torrents.uploadRate, listenPort: listenPort,
            downloadLimit: globalDownload.rate, uploadLimit: globalUpload.rate,
            downloadDirectory: downloadDirectory)
        snapshot.refusedIncoming = refusedIncoming
        snapshot.altSpeedEnabled = altSpeed.enabled
        return snapshot
    }

    func runtime(for hash: InfoHash) -> TorrentRuntime? {
        guard let entry = entries[hash] ?? v2Aliases[hash].flatMap({ entries[$0] }), !entry.paused else { return nil }
        return entry.runtime
    }

    /// The torrent's runtime, for commands that need its metadata (not a magnet's).
    func torrentRuntime(_ hash: InfoHash) throws -> TorrentRuntime {
        guard let runtime = entries[hash]?.runtime else { throw SessionError.unknownTorrent }
        return runtime
    }
}
