import Foundation
import NIOPosix
import ShoalCore

/// Bringing back the torrents of the last run. At 100,000 torrents a start is mostly this: the
/// session file is read by a fast reader, and each torrent's metainfo and resume data are read,
/// and its runtime made in the state it was left, in two threads ahead of the session's actor,
/// which only files the runtimes (see `RestoredState`). Torrents with pieces to fetch start at
/// once; seeds start `restoredSeedStartsPerSecond` at a time (see `StartPacer`).
extension Session {
    /// Brings back the torrents of the last run, as they were left. Returns problems to report;
    /// a torrent that cannot be restored is skipped, never fatal.
    public func restore() async -> [String] {
        guard let store else { return [] }
        let saved: [SessionStore.Entry]
        var problems: [String] = []
        do {
            let session = try store.loadSession()
            saved = session.torrents
            problems = session.problems
            journalGeneration = session.journal
            journalRecords = session.journalRecords
            journalReady = true
            if let remote = session.remote { problems += await restoreRemoteSettings(remote) }
            if config.restoresGlobalLimits, let limits = session.limits {
                globalUpload.setRate(limits.upload)
                globalDownload.setRate(limits.download)
            }
            // Left on by the last run: the alternative limits are the ones in force.
            if altSpeed.enabled {
                altSpeed.normalUpload = globalUpload.rate
                altSpeed.normalDownload = globalDownload.rate
                globalUpload.setRate(altSpeed.upload)
                globalDownload.setRate(altSpeed.download)
            }
        } catch {
            store.moveAsideBrokenSession()
            return ["\(error)"]
        }
        // A run of records is made ready in the threads while the actor files the run before.
        let maker = runtimeMaker, sessionRatio = sessionSeedRatio
        let runs = stride(from: 0, to: saved.count, by: Self.restoreRun).map { saved[$0..<min(saved.count, $0 + Self.restoreRun)] }
        var ready = runs.isEmpty ? [] : await Self.prepare(runs[0], store: store, maker: maker, sessionRatio: sessionRatio)
        for (number, run) in runs.enumerated() {
            let current = ready
            async let next = number + 1 < runs.count
                ? Self.prepare(runs[number + 1], store: store, maker: maker, sessionRatio: sessionRatio)
                : []
            for (record, prepared) in zip(run, current) {
                if let problem = await file(record, prepared) { problems.append(problem) }
            }
            ready = await next
        }
        startQueuedIfRoom()
        releasePacedStarts(now: .now)
        if !pacedStarts.isEmpty { spawnContinuation.yield(.pacedStarts) }
        return problems
    }

    /// Starts the restored seeds whose turn has come; the rest wait (see `StartPacer`).
    private func releasePacedStarts(now: ContinuousClock.Instant) {
        var queued = 0
        for hash in pacedStarts.release(now: now) where entries[hash]?.startPending == true {
            entries[hash]?.startPending = false
            // A seed needs a slot only when seeds are limited: else it runs (no plan, which
            // looks at every torrent).
            if seedsQueue {
                startOrQueue(hash, planNow: false)
                queued += 1
            } else {
                start(hash)
            }
        }
        if queued > 0 { startQueuedIfRoom() }
    }

    private var seedsQueue: Bool { config.maxActiveSeeds > 0 }

    /// Releases restored seeds until none waits or the session shuts down; a second apart when
    /// each release plans the queue. While pieces are being downloaded the seeds start at a
    /// tenth of the rate: at 2,000 a second they took a quarter of a core from the downloads.
    func releasePacedStarts() async {
        let full = config.restoredSeedStartsPerSecond
        var piecesSeen = events.piecesVerified
        while !hasShutDown, let wait = pacedStarts.wait(now: .now) {
            guard (try? await Task.sleep(for: max(wait, seedsQueue ? .seconds(1) : .milliseconds(100)))) != nil else { return }
            guard !hasShutDown else { return }
            let pieces = events.piecesVerified
            pacedStarts.setRate(pieces != piecesSeen ? max(1, full / 10) : full)
            piecesSeen = pieces
            releasePacedStarts(now: .now)
        }
        logger.debug("every restored torrent has started")
    }

    /// What a remote set last run, unless this run's command line or config file says otherwise.
    private func restoreRemoteSettings(_ remote: SessionStore.RemoteSettings) async -> [String] {
        altSpeed = remote.altSpeed
        // The command line and the config file win over what a remote set last run.
        if config.seedRatioLimit == nil { sessionSeedRatio = remote.seedRatioLimit }
        if let up = config.altUploadLimit { altSpeed.upload = up }
        if let down = config.altDownloadLimit { altSpeed.download = down }
        if config.restoresDownloadDirectory, let directory = remote.downloadDirectory { downloadDirectory = directory }
        startAddedTorrents = remote.startAddedTorrents ?? true
        guard let peers = remote.peers else { return [] }
        return await restorePeerSettings(peers)
    }

    /// Files one restored torrent; returns the problem when it cannot be restored.
    private func file(_ record: SessionStore.Entry, _ prepared: Prepared) async -> String? {
        switch prepared {
        case .failed(let problem):
            return "cannot restore \(record.infoHash): \(problem)"
        case .magnet(let hash, let text):
            // A magnet whose metadata never arrived: fetch it again.
            do {
                try await add(magnet: MagnetLink(parsing: text), downloadDirectory: record.downloadDirectory,
                              paused: record.paused, added: record.added)
                // Its limits wait in the entry for the torrent it becomes.
                if var entry = entries[hash] {
                    Self.restoreSettings(record, into: &entry)
                    entries[hash] = entry
                }
            } catch {
                return "cannot restore \(record.infoHash): \(error)"
            }
        case .layersWanted(let metainfo):
            guard entries[metainfo.infoHash] == nil else { return "cannot restore \(record.infoHash): \(SessionError.duplicate(metainfo.info.name))" }
            // The files it was told to fetch only, kept in its record's magnet (`so`).
            let selected = record.magnet.flatMap { try? MagnetLink(parsing: $0) }?.selectOnly
            let priorities = selected.map { only in metainfo.info.files.indices.map { only.contains($0) ? FilePriority.normal : .skip } }
            let hash = fetchLayers(of: metainfo, directory: AbsolutePath.resolve(record.downloadDirectory), paused: record.paused,
                                   added: record.added, planNow: false, filePriorities: priorities)
            if var entry = entries[hash] {
                Self.restoreSettings(record, into: &entry)
                entries[hash] = entry
            }
        case .torrent(let runtime, let state, let directory):
            let hash = runtime.infoHash
            guard entries[hash] == nil else { return "cannot restore \(record.infoHash): \(SessionError.duplicate(runtime.metainfo.info.name))" }
            var entry = Entry(phase: .torrent(runtime), stop: nil, paused: true, downloadDirectory: directory, added: record.added)
            Self.restoreSettings(record, into: &entry)
            entry.trackers = record.trackers
            entry.sequential = record.sequential ?? false
            register(hash, entry)
            // What the file says is what the journal has: the first save after a start
            // appended all 100,000 records because none was known saved.
            savedStates[hash] = state
            guard !record.paused else { break }
            if runtime.restoredWhole {
                entries[hash]?.startPending = true
                pacedStarts.add(hash)
            } else {
                startOrQueue(hash, planNow: false)
            }
        }
        return nil
    }

    /// The settings a record keeps beside the torrent's runtime.
    private static func restoreSettings(_ record: SessionStore.Entry, into entry: inout Entry) {
        if let up = record.uploadLimit, let down = record.downloadLimit {
            entry.uploadLimit = up
            entry.downloadLimit = down
        }
        entry.labels = record.labels ?? []
        entry.seedRatio = record.seedRatio ?? .session
        entry.peerLimit = record.peerLimit
    }

    /// A saved torrent made ready off the actor.
    enum Prepared: Sendable {
        case torrent(TorrentRuntime, PersistentState, directory: String)
        /// A magnet that never got its metadata.
        case magnet(InfoHash, String)
        /// A v2 torrent whose piece layers its peers had not sent yet.
        case layersWanted(Metainfo)
        case failed(String)
    }

    static let restoreRun = 1024

    /// Reads the torrents (and resume data) of `records` and makes their runtimes, in two halves
    /// at once, off the actor: at 100,000 torrents, doing it one by one on the actor was most of
    /// a start.
    nonisolated static func prepare(_ records: ArraySlice<SessionStore.Entry>, store: SessionStore, maker: RuntimeMaker,
                                    sessionRatio: Double?) async -> [Prepared] {
        @Sendable func prepare(_ part: ArraySlice<SessionStore.Entry>) -> [Prepared] {
            part.map { record in
                guard let hash = InfoHash(text: record.infoHash) else { return .failed("not an info-hash") }
                if let magnet = record.magnet, !store.hasTorrent(hash) { return .magnet(hash, magnet) }
                let metainfo: Metainfo
                do {
                    metainfo = try store.loadTorrent(hash)
                } catch {
                    return .failed("\(error)")
                }
                if metainfo.missingPieceLayer != nil { return .layersWanted(metainfo) }
                let files = metainfo.info.files.count
                let priorities = record.filePriorities.count == files
                    ? record.filePriorities.map { FilePriority(rawValue: $0) ?? .normal } : Array(repeating: .normal, count: files)
                let state = PersistentState(uploaded: record.uploaded, downloaded: record.downloaded, completed: record.completed,
                                            activity: record.activity, seedWhenDone: record.seedWhenDone, priorities: priorities)
                let limited = record.uploadLimit != nil && record.downloadLimit != nil
                let ratio: Double? = switch record.seedRatio ?? .session {
                case .session: sessionRatio
                case .own(let ratio): ratio
                case .unlimited: nil
                }
                let restored = RestoredState(
                    state: state, resume: store.loadResume(hash), forRun: !record.paused,
                    uploadLimit: limited ? record.uploadLimit! : 0, downloadLimit: limited ? record.downloadLimit! : 0,
                    seedRatioLimit: ratio, trackers: record.trackers, sequential: record.sequential ?? false,
                    peerLimit: record.peerLimit ?? maker.peerLimitPerTorrent)
                let directory = AbsolutePath.resolve(record.downloadDirectory)
                return .torrent(maker.make(metainfo, directory: directory, restored: restored), state, directory: directory)
            }
        }
        let middle = records.startIndex + records.count / 2
        async let first = prepare(records[records.startIndex..<middle])
        let second = prepare(records[middle...])
        return await first + second
    }
}

/// What a torrent's runtime is made with: the session's shared parts as a value, so a restore
/// can make runtimes in the threads that read the state directory.
struct RuntimeMaker: Sendable {
    let config: SharedConfig
    let port: ListenPort
    let pool: NIOThreadPool
    let globalUpload: RateLimiter
    let globalDownload: RateLimiter
    let store: SessionStore?
    let dht: DHTNode?
    let peerBudget: PeerBudget
    let events: SessionEvents
    let transport: any PeerTransport
    let trackerGate: TrackerGate

    /// The per-torrent connection limit as it stood when this was made.
    var peerLimitPerTorrent: Int { config.value.maxPeersPerTorrent }

    func make(_ metainfo: Metainfo, directory: String, restored: RestoredState? = nil) -> TorrentRuntime {
        TorrentRuntime(metainfo: metainfo, config: config, port: port, pool: pool, globalUpload: globalUpload,
                       globalDownload: globalDownload, downloadDirectory: directory, store: store, dht: dht,
                       peerBudget: peerBudget, events: events, transport: transport, trackerGate: trackerGate, restored: restored)
    }
}
