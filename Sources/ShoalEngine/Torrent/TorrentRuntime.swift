import Foundation
import Logging
import NIOPosix
import ShoalCore
import Synchronization

/// One torrent's life: checks existing data, then runs its tracker announcer, its peer
/// connections, its hash checker and its once-a-second tick as children of one task group.
/// Cancelling `run()` ends them all; `stop()` first says goodbye to the trackers.
public actor TorrentRuntime {
    public let metainfo: Metainfo
    /// The session's settings, one copy shared by its torrents: inline, 576 bytes of every
    /// runtime (5.6 MB of 10,000 idle torrents).
    nonisolated let sharedConfig: SharedConfig
    nonisolated var config: EngineConfig { sharedConfig.value }
    let storage: FileStorage
    let uploadCache = UploadCache()
    let pool: NIOThreadPool
    /// The session's (see `ListenPort`): read at each use, so a moved port is what we tell.
    let port: ListenPort
    nonisolated var listenPort: UInt16 { port.current }
    nonisolated let uploadLimiter: RateLimiter
    nonisolated let downloadLimiter: RateLimiter
    let globalUpload: RateLimiter
    let globalDownload: RateLimiter

    var picker: PiecePicker?
    /// Active while an initial seeder super-seeds (BEP 16); nil otherwise.
    var superSeeder: SuperSeeder?
    /// While seeding: declines requests for pieces others can give (see `SeedRequestFilter`).
    var seedFilter = SeedRequestFilter()
    var choker: Choker
    var peers: [Int: PeerRecord] = [:]
    var nextKey = 1
    /// Writes blocks and checks pieces; a new one for each run.
    var writer: PieceWriter
    /// Over this many bytes waiting for the disk, no new requests go out: a fast network cannot
    /// outrun a slow disk into unbounded memory.
    static let pendingWriteLimit = 4 << 20
    var pendingWriteBytes: Int { writer.queuedBytes.load(ordering: .relaxed) }
    var activity: TorrentActivity = .checking
    var errorMessage: String?
    /// Pieces hashed by the check at start; counted from the checking threads.
    let checkedPieces = Counter()
    var downloadedBytes: Int64 = 0
    var uploadedBytes: Int64 = 0
    /// Totals from earlier runs (the counters above count this run, for the tracker).
    var uploadedBase: Int64 = 0
    var downloadedBase: Int64 = 0
    var downMeter: RateMeter
    var upMeter: RateMeter
    /// When connections' sent bytes were last collected into the meters.
    var lastUploadSample: ContinuousClock.Instant
    var addresses: [PeerAddress: DialState] = [:]
    var bannedIDs: Set<PeerID> = []
    var bannedAddresses: Set<PeerAddress> = []
    /// Hosts the user banned: refused whatever port they come from, never dialled.
    var bannedHosts: Set<String> = []
    /// Bans in the order made: past `maxBans` the oldest is lifted (a peer that forges a new id
    /// for every connection must not grow memory without end).
    var banOrder: [PeerID] = []
    static let maxBans = 10_000
    var suspects: [Int: SuspectPiece] = [:]
    /// Whether `verifyLoop` runs, and who waits for it to end (see `waitForVerifyLoop`).
    var verifyLoopRunning = false
    var verifyLoopWaiters: [CheckedContinuation<Void, Never>] = []
    /// Peers that sent part of a piece that failed, by id: on parole (see `PiecePicker`).
    var paroleIDs: Set<PeerID> = []
    /// Every connection's peer id by key, kept after it closes while a piece it sent part of is
    /// unchecked: blame for a bad piece can come after the sender has gone (see `forgetGoneSenders`).
    var peerIDsByKey: [Int: PeerID] = [:]
    var lastSenderSweep: ContinuousClock.Instant?
    var hashFailures = 0
    /// How the torrent's connections ended (shown in the Peers tab).
    var closeCounts = CloseCounts()
    /// The session's logger with this torrent's name and info-hash. Made when something is
    /// logged, not kept: a logger with metadata holds a dictionary per log handler, about
    /// 1.4 KiB a torrent, and most torrents of a large session never log a line.
    nonisolated var logger: Logger {
        var logger = config.logger
        logger[metadataKey: "torrent"] = "\(metainfo.info.name)"
        logger[metadataKey: "infohash"] = "\(metainfo.infoHash.hex.prefix(12))"
        return logger
    }
    var lastChokeRound: ContinuousClock.Instant?
    var lastKeepAlive: ContinuousClock.Instant
    var rng = SplitMix64()
    /// Its trackers, their order and states (see `TrackerTiers`).
    var trackers: TrackerTiers
    var cachedMagnetURI: (edits: Int, uri: String)?
    var cachedSizes: (have: Bitfield, priorities: [FilePriority], wanted: Int64, haveSize: Int64)?
    /// Pieces in order, files' edges first (see `PiecePicker.sequential`).
    var sequential = false
    /// When to announce and with which event (see `AnnounceSchedule`).
    var announceSchedule: AnnounceSchedule
    var filePriorities: [FilePriority]
    var completedAt: Date?
    /// When data last moved either way (Transmission's `activityDate`), seen at the tick: what
    /// a remote's "recently active" and "last activity" read, whether or not anyone is asking.
    var lastActivity: Date?
    var lastActivityTotal: Int64 = 0
    /// The user asked to stop seeding: once complete, the torrent goes quiet instead of seeding.
    var seedWhenDone = true
    /// The ratio at which seeding stops (the session's, or the torrent's own; nil: none).
    var seedRatioLimit: Double?
    /// Connections this torrent may hold (the session's `peer-limit-per-torrent`, or its own).
    var peerLimit: Int
    /// Set by `stop()`: no new connections are taken while the torrent winds down.
    var isStopping = false

    /// Work `run()` starts as child tasks when it falls due (see TorrentRuntime+Jobs.swift).
    nonisolated let jobQueue: RuntimeJobQueue
    /// Child tasks of `run()` under way; at none, the run may go dormant.
    var jobsUnderWay = 0
    /// The first `run()` checks the data; a run started again after going dormant does not.
    var hasRun = false
    /// Ticks run so far (tests see a dormant torrent's tick come).
    var ticks = 0
    /// Counts what may have changed the snapshot of a quiet torrent (see `noteChange`); read
    /// by the session without a hop.
    nonisolated let snapshotChanges = Atomic<Int>(0)
    /// No peers, no dials, not checking: its snapshot moves only at the counted events.
    nonisolated let isQuiet = Atomic<Bool>(false)
    /// Who to tell when the snapshot the session keeps of this quiet torrent turns wrong.
    nonisolated let keptWatcher = Mutex<KeptWatcher?>(nil)
    /// When the next tick comes; `ring` brings it forward (see `TickTimer`).
    nonisolated let tickTimer: TickTimer
    /// Which on-demand work is under way, and whether it was asked for again meanwhile.
    var running = RunningJobs()
    var nextDHTAnnounce: ContinuousClock.Instant?
    var scrapeSchedule: ScrapeSchedule
    /// Failed pieces of a v2 torrent whose blocks' hashes were asked of peers, by request: the
    /// answer that proves out names the senders of the blocks that differ (see `blameByBlockHashes`).
    var blockHashAsks: [HashRequest: SuspectPiece] = [:]
    /// Its web seeds (BEP 19); nil when it lists none.
    var webSeeding: WebSeeding?
    /// `stopped` was said for an error; said once until the torrent runs again.
    var saidStoppedForError = false

    public nonisolated var infoHash: InfoHash { metainfo.infoHash }

    let store: SessionStore?
    let dht: DHTNode?
    /// Connections all torrents share (`maxPeersTotal`).
    let peerBudget: PeerBudget
    /// Where every announce and scrape waits its turn (the session's).
    let trackerGate: TrackerGate
    /// Where completion and failure are announced (the session's).
    let events: SessionEvents
    /// How its connections are made (the session's; see `PeerTransport`).
    let transport: any PeerTransport
    var lastResumeSave: ContinuousClock.Instant?
    /// Blocks went to disk in this run (the files' times moved).
    var wroteBlocks = false
    var savedHave: Bitfield?
    /// Why the last queued resume save failed (set from the write queue's thread), taken by the
    /// next save: it is retried, and the torrent shows the reason meanwhile.
    let resumeSaveFailure = ResumeSaveFailure()
    /// What the torrent has while it is not running (no picker): from resume data, or from the
    /// run before a pause.
    var restingHave: Bitfield?
    /// What resume data vouched for when the torrent was restored to run at once, and when
    /// (see `takeVouchedForRun`).
    var vouchedForRun: (ResumeData.Vouched, ContinuousClock.Instant)?
    /// Made by a restore with resume data vouching for every piece: a seed, whose start can wait its turn.
    nonisolated let restoredWhole: Bool

    public init(metainfo: Metainfo, config: EngineConfig, listenPort: UInt16, pool: NIOThreadPool,
                globalUpload: RateLimiter, globalDownload: RateLimiter, downloadDirectory: String? = nil,
                store: SessionStore? = nil, dht: DHTNode? = nil, peerBudget: PeerBudget = PeerBudget(limit: .max),
                events: SessionEvents = SessionEvents()) {
        self.init(metainfo: metainfo, config: SharedConfig(config), port: ListenPort(listenPort), pool: pool, globalUpload: globalUpload,
                  globalDownload: globalDownload, downloadDirectory: downloadDirectory, store: store, dht: dht,
                  peerBudget: peerBudget, events: events, transport: TCPTransport(encryption: config.encryption, handshakeTimeout: config.handshakeTimeout),
                  trackerGate: TrackerGate(perSecond: config.trackerRequestsPerSecond))
    }

    init(metainfo: Metainfo, config shared: SharedConfig, port: ListenPort, pool: NIOThreadPool,
         globalUpload: RateLimiter, globalDownload: RateLimiter, downloadDirectory: String?,
         store: SessionStore?, dht: DHTNode?, peerBudget: PeerBudget, events: SessionEvents, transport: any PeerTransport,
         trackerGate: TrackerGate, restored: RestoredState? = nil) {
        self.trackerGate = trackerGate
        self.transport = transport
        self.events = events
        self.peerBudget = peerBudget
        self.store = store
        self.dht = dht
        self.metainfo = metainfo
        self.sharedConfig = shared
        let config = shared.value
        self.seedRatioLimit = config.seedRatioLimit
        self.port = port
        self.peerLimit = restored?.peerLimit ?? config.maxPeersPerTorrent
        self.pool = pool
        let storage = FileStorage(info: metainfo.info, downloadDirectory: downloadDirectory ?? config.downloadDirectory)
        self.storage = storage
        self.uploadLimiter = RateLimiter(bytesPerSecond: restored?.uploadLimit ?? 0)
        self.downloadLimiter = RateLimiter(bytesPerSecond: restored?.downloadLimit ?? 0)
        self.globalUpload = globalUpload
        self.globalDownload = globalDownload
        self.choker = Choker(regularSlots: config.uploadSlots)
        self.announceSchedule = AnnounceSchedule(policy: config.announcePolicy)
        self.scrapeSchedule = ScrapeSchedule(interval: config.scrapeInterval)
        let now = ContinuousClock.now
        self.downMeter = RateMeter(origin: now)
        self.upMeter = RateMeter(origin: now)
        self.lastUploadSample = now
        self.lastKeepAlive = now
        self.filePriorities = [FilePriority](repeating: .normal, count: metainfo.info.files.count)
        let jobQueue = RuntimeJobQueue()
        self.jobQueue = jobQueue
        self.tickTimer = TickTimer { jobQueue.submit(.tick) }
        self.writer = PieceWriter(storage: storage, info: metainfo.info, pool: pool)
        self.trackers = TrackerTiers(restored?.trackers ?? metainfo.trackerTiers)
        if !metainfo.urlList.isEmpty { self.webSeeding = WebSeeding(urls: metainfo.urlList, now: now) }
        guard let restored else {
            self.restoredWhole = false
            return
        }
        // As the setters would leave a resting runtime, without an actor hop each.
        let state = restored.state
        if state.priorities.count == metainfo.info.files.count { self.filePriorities = state.priorities }
        self.uploadedBase = state.uploaded
        self.downloadedBase = state.downloaded
        self.completedAt = state.completed
        self.lastActivity = state.activity
        self.lastActivityTotal = state.uploaded + state.downloaded
        self.seedWhenDone = state.seedWhenDone
        self.seedRatioLimit = restored.seedRatioLimit
        self.sequential = restored.sequential
        let vouched = restored.resume.flatMap {
            $0.vouched(geometry: metainfo.info.geometry, infoHash: metainfo.infoHash, paths: storage.diskPaths,
                       padding: metainfo.info.files.map(\.isVirtual))
        }
        self.restingHave = vouched?.have
        self.restoredWhole = vouched?.have.isComplete ?? false
        self.vouchedForRun = restored.forRun ? vouched.map { ($0, .now) } : nil
    }

    var context: PeerContext {
        PeerContext(infoHash: metainfo.infoHash, ourID: config.peerID, pieceCount: metainfo.info.pieceCount,
                    storage: storage, uploadCache: uploadCache, pool: pool, uploadLimiters: [uploadLimiter, globalUpload],
                    downloadLimiters: [downloadLimiter, globalDownload],
                    reserved: Handshake.reservedBits(dht: config.dhtEnabled, v2: metainfo.info.v2 != nil),
                    handshakeTimeout: config.handshakeTimeout, transport: transport, logger: logger,
                    upgradedInfoHash: metainfo.hybridV2Alias)
    }

    /// Closes every connection, lets the last write land, records what is on disk and says
    /// `stopped` to the trackers; call before cancelling `run()`.
    public func stop() async {
        isStopping = true
        closeAllPeers(CloseReason(.stopped, "stopped"))
        await writer.finish()
        await waitForVerifyLoop()
        // Blocks written since the last save changed the files' times: recorded now, the next
        // start trusts them without a check. A torrent that wrote nothing (a seed) keeps the
        // record it has: rewriting and syncing it for each of 100,000 torrents held a quit up
        // for five minutes.
        saveResume(force: wroteBlocks)
        await store?.drainWrites()
        if let have = picker?.have { restingHave = have }
        await announceStopped()
        storage.closeAll()
    }

    func closeAllPeers(_ reason: CloseReason) {
        for key in peers.keys { drop(key, reason) }
    }

    /// A logger for one peer: the torrent's, with the peer's address and client.
    func peerLogger(_ address: PeerAddress, _ peerID: PeerID?, incoming: Bool) -> Logger {
        var logger = self.logger
        logger[metadataKey: "peer"] = "\(address)"
        if let peerID { logger[metadataKey: "client"] = "\(peerID.clientName)" }
        logger[metadataKey: "direction"] = incoming ? "in" : "out"
        return logger
    }

    var snapshotActivity: TorrentActivity { activity }

    func fail(_ message: String) {
        guard activity != .error else { return }
        errorMessage = message
        activity = .error
        noteChange()
        logger.error("stopped by an error: \(message)")
        closeAllPeers(CloseReason(.stopped, "error: \(message)"))
        events.publish(.failed(infoHash))
        // The announcer says `stopped`: an errored torrent is not in the swarm.
        wakeAnnouncer()
    }

    /// What the session's queue needs: whether everything wanted is here, and the bytes received
    /// so far (unchanged for a while: stalled).
    var queueFacts: (complete: Bool, downloaded: Int64) {
        let complete = picker?.isDone ?? (restingHave.map { $0.setCount == $0.count } ?? false)
        return (complete, downloadedBytes)
    }

    public func setSequential(_ on: Bool) {
        sequential = on
        picker?.sequential = on
    }

    public func setLimits(upload: Int, download: Int) async {
        uploadLimiter.setRate(upload)
        downloadLimiter.setRate(download)
    }

    /// One priority per file, or per file the user sees (padding files left out, as in
    /// snapshots); any other count is ignored.
    public func setFilePriorities(_ given: [FilePriority]) {
        var priorities = given
        if given.count != filePriorities.count {
            let visible = metainfo.info.files.indices.filter { !metainfo.info.files[$0].isPadding }
            guard given.count == visible.count else { return }
            priorities = filePriorities
            for (shown, file) in visible.enumerated() { priorities[file] = given[shown] }
        }
        filePriorities = priorities
        picker?.setFilePriorities(priorities)
        for key in peers.keys { updateInterest(key) }
        updateCompletion()
    }

    public func setSeeding(_ seed: Bool) {
        seedWhenDone = seed
        if let picker, picker.isDone {
            activity = seed ? .seeding : .finished
            if !seed { closeAllPeers(CloseReason(.stopped, "seeding turned off")) }
            tickTimer.ring()  // seeding again: dial at once, not at the next idle tick
        }
    }

    /// Adds addresses (from a tracker, the command line or PEX) to dial.
    static let maxKnownAddresses = 2_000

    public func addPeers(_ found: [PeerAddress], source: PeerSource = .tracker) {
        let now = ContinuousClock.now
        // A tracker (or a peer) handing out a huge list must not grow memory without end.
        // One spelling per address (IPv6 forms, IPv4-mapped ones), so a peer is known once.
        for address in found.map(\.normalized) where addresses.count < Self.maxKnownAddresses && addresses[address] == nil
            && !bannedAddresses.contains(address) && !bannedHosts.contains(address.host) && address.port > 0
        {
            addresses[address] = DialState(nextTry: now, source: source)
        }
        dialMore(now: now)
        tickTimer.ring()
    }

    func dialMore(now: ContinuousClock.Instant) {
        // Seeds dial too: a tracker hands a seed only leechers, and a leecher that announced
        // before the seed did would otherwise wait a whole interval to find it.
        guard activity == .downloading || activity == .seeding, !isStopping else { return }
        var slots = peerLimit - peers.count - addresses.values.filter(\.dialing).count
        guard slots > 0 else { return }
        for (address, state) in addresses
        where slots > 0 && !state.connected && !state.dialing && !state.isSelf && state.nextTry <= now
            && !bannedAddresses.contains(address) && !bannedHosts.contains(address.host)
        {
            addresses[address]?.dialing = true
            jobQueue.submit(.dial(address))
            slots -= 1
            isQuiet.store(false, ordering: .relaxed)
            reportKeptSnapshotWrong()
        }
    }

    func dialFailed(_ address: PeerAddress, reason: CloseReason) {
        closeCounts.add(reason.kind)
        peerLogger(address, nil, incoming: false).debug("dial failed", metadata: ["reason": "\(reason)"])
        guard var state = addresses[address] else { return }
        state.dialing = false
        state.failures += 1
        let backoff = min(300, 5 << min(state.failures, 6))
        state.nextTry = .now + .seconds(backoff)
        addresses[address] = state
        // The slot is free again: try the next address now rather than at the next tick, and
        // this one again at its time.
        dialMore(now: .now)
        tickTimer.ring()
        noteChange()
    }

    func updateCompletion() {
        guard let picker, activity == .downloading || activity == .seeding || activity == .finished else { return }
        if picker.isDone && activity == .downloading {
            // Never "completed" over files that are gone.
            guard checkFilesInPlace() else { return }
            activity = seedWhenDone ? .seeding : .finished
            completedAt = Date()
            saveResume()
            events.publish(.completed(infoHash))
            announceSchedule.completed(now: .now)
            wakeAnnouncer()
            logger.info("completed")
            webSeedsLeavePicker()
            if !seedWhenDone { closeAllPeers(CloseReason(.stopped, "complete, not seeding")) }
            // Two seeds have nothing to trade.
            for key in peers.keys where picker.peerBitfield(key)?.isComplete == true { drop(key, CloseReason(.bothSeeds)) }
        } else if !picker.isDone && activity != .downloading && activity != .error {
            activity = .downloading
            tickTimer.ring()  // more wanted (a file turned on): dial at once
        }
    }

    public var isComplete: Bool { picker?.isDone ?? false }
}

/// A count shared with worker threads.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func increment() { value.add(1, ordering: .relaxed) }
    var current: Int { value.load(ordering: .relaxed) }
}

/// Settings shared by reference (see `TorrentRuntime.sharedConfig`).
final class SharedConfig: Sendable {
    let value: EngineConfig
    init(_ value: EngineConfig) { self.value = value }
}
