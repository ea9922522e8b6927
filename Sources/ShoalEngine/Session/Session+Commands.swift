import Foundation
import Logging
import ShoalCore

/// What the user (or a front end) asks of torrents: add, pause, resume, remove, verify, limits.
extension Session {
    @discardableResult
    public func add(_ metainfo: Metainfo, downloadDirectory: String? = nil, paused: Bool = false,
                    filePriorities: [FilePriority]? = nil) async throws -> InfoHash {
        try await serialized(metainfo.infoHash) {
            try await addNow(metainfo, downloadDirectory: downloadDirectory, paused: paused, filePriorities: filePriorities)
        }
    }

    func addNow(_ metainfo: Metainfo, downloadDirectory: String?, paused: Bool, filePriorities: [FilePriority]?) async throws -> InfoHash {
        let hash = try await insertNow(metainfo, downloadDirectory: downloadDirectory, paused: paused, filePriorities: filePriorities)
        do {
            try await store?.saveTorrent(metainfo, bytes: metainfo.fileBytes)
        } catch {
            report("\(error)")
        }
        await saveTorrent(hash)
        return hash
    }

    /// Adds many torrents at once (a watch folder's new files), saved together: their copies
    /// with one sync of the directory, their records in one journal append — a group commit,
    /// so each add costs about one sync instead of three. One result per torrent, in order.
    public func add(batch metainfos: [Metainfo]) async -> [Result<InfoHash, any Error>] {
        do {
            return try await serialized(all: metainfos.map(\.infoHash)) {
                var results: [Result<InfoHash, any Error>] = []
                var added: [Metainfo] = []
                for metainfo in metainfos {
                    do {
                        results.append(.success(try await insertNow(metainfo, downloadDirectory: nil, paused: false, filePriorities: nil,
                                                                    planNow: false)))
                        added.append(metainfo)
                    } catch {
                        results.append(.failure(error))
                    }
                }
                startQueuedIfRoom()
                do {
                    try await store?.saveTorrents(added)
                } catch {
                    report("\(error)")
                }
                await saveTorrents(added.map(\.infoHash))
                return results
            }
        } catch {
            return metainfos.map { _ in .failure(error) }
        }
    }

    /// Adds a torrent without saving the session (a restore saves once at the end).
    /// `resume`: its resume data already read (nil inside: none); `forRun`: it starts at once.
    func insert(_ metainfo: Metainfo, downloadDirectory: String?, paused: Bool, filePriorities: [FilePriority]?,
                added: Date = Date(), resume: ResumeData?? = nil, forRun: Bool = false) async throws -> InfoHash {
        try await serialized(metainfo.infoHash) {
            try await insertNow(metainfo, downloadDirectory: downloadDirectory, paused: paused, filePriorities: filePriorities, added: added,
                                resume: resume, forRun: forRun)
        }
    }

    private func insertNow(_ metainfo: Metainfo, downloadDirectory: String?, paused: Bool, filePriorities: [FilePriority]?,
                           added: Date = Date(), resume: ResumeData?? = nil, forRun: Bool = false,
                           planNow: Bool = true) async throws -> InfoHash {
        let hash = metainfo.infoHash
        guard entries[hash] == nil else { throw SessionError.duplicate(metainfo.info.name) }
        let directory = downloadDirectory.map(AbsolutePath.resolve) ?? self.downloadDirectory
        if metainfo.missingPieceLayer != nil {
            return fetchLayers(of: metainfo, directory: directory, paused: paused, added: added, planNow: planNow,
                               filePriorities: filePriorities)
        }
        let runtime = makeRuntime(metainfo, directory: directory)
        if let filePriorities { await runtime.setFilePriorities(filePriorities) }
        await runtime.loadRestingProgress(resume: resume, forRun: forRun || !paused)
        guard entries[hash] == nil else { throw SessionError.duplicate(metainfo.info.name) }
        register(hash, Entry(phase: .torrent(runtime), stop: nil, paused: true, downloadDirectory: directory, added: added))
        if !paused { startOrQueue(hash, planNow: planNow) }
        return hash
    }

    /// A new torrent's entry filed, last in the order.
    func register(_ hash: InfoHash, _ entry: Entry) {
        entries[hash] = entry
        restingSlots[hash] = entry.restingSlot
        encryptedTorrents.insert(hash)
        order.append(hash)
        if let runtime = entry.runtime { noteAlias(of: runtime, for: hash) }
    }

    /// A hybrid answers to its v2 hash too, in the clear and encrypted.
    func noteAlias(of runtime: TorrentRuntime, for hash: InfoHash) {
        guard let alias = runtime.metainfo.hybridV2Alias, entries[alias] == nil else { return }
        v2Aliases[alias] = hash
        encryptedTorrents.insert(alias)
    }

    func makeRuntime(_ metainfo: Metainfo, directory: String) -> TorrentRuntime {
        runtimeMaker.make(metainfo, directory: directory)
    }

    /// What runtimes are made with, the connection limit as it stands now (a remote may have changed it).
    var runtimeMaker: RuntimeMaker {
        // One copy of the settings for every runtime made while the limit stands.
        if runtimeConfig?.value.maxPeersPerTorrent != peerLimitPerTorrent {
            var changed = config
            changed.maxPeersPerTorrent = peerLimitPerTorrent
            runtimeConfig = SharedConfig(changed)
        }
        return RuntimeMaker(config: runtimeConfig!, port: port, pool: pool, globalUpload: globalUpload, globalDownload: globalDownload,
                            store: store, dht: dht, peerBudget: peerBudget, events: events, transport: transport,
                            trackerGate: trackerGate)
    }

    /// Records something the user should see (watch-folder results, failures to save state).
    public func report(_ message: String, level: Logger.Level = .warning) {
        logger.log(level: level, "\(message)")
        errors.append(message)
        noticeCount += 1
        recentNotices.append(message)
        if recentNotices.count > 100 { recentNotices.removeFirst(recentNotices.count - 100) }
    }

    /// Notices reported after the `after`-th (up to the last 100), and how many there have been:
    /// a remote interface asks for what is new without taking them from the local one.
    public func notices(after: Int) -> (count: Int, messages: [String]) {
        let new = max(0, min(noticeCount - after, recentNotices.count))
        return (noticeCount, Array(recentNotices.suffix(new)))
    }

    /// The log's lines after the `after`-th (see `RecentLog`); none when nothing keeps them.
    public nonisolated func recentLog(after: Int) -> (count: Int, lines: [String]) {
        config.recentLog?.lines(after: after) ?? (0, [])
    }

    /// Problems and notices since the last call, for the front end to show.
    public func takeErrors() -> [String] {
        defer { errors.removeAll() }
        return errors
    }

    /// Ends a running torrent's or magnet's task.
    struct RunStop: Sendable {
        let finish: @Sendable () -> Void
    }

    func start(_ hash: InfoHash) {
        guard var entry = entries[hash], entry.paused, entry.stop == nil else { return }
        entry.paused = false
        entry.startPending = false
        switch entry.phase {
        case .torrent(let runtime):
            // Through the runtime's own jobs: no task waits to cancel it.
            entry.stop = RunStop { runtime.endRun() }
            entries[hash] = entry
            // An idle runtime's run ends; work that comes starts it again here.
            let spawn = spawnContinuation
            runtime.wakesWith { [weak runtime] in
                if let runtime { spawn.yield(.torrent(runtime)) }
            }
            spawnContinuation.yield(.torrent(runtime))
        case .metadata(let fetcher):
            let (stream, continuation) = AsyncStream.makeStream(of: Void.self)
            entry.stop = RunStop { continuation.finish() }
            entries[hash] = entry
            spawnContinuation.yield(.magnet(fetcher, stop: stream))
        }
    }

    public func pause(_ hash: InfoHash) async throws {
        try await serialized(hash) {
            try await pauseNow(hash)
            entries[hash]?.queued = false
            entries[hash]?.resting = nil
        }
        planQueueSoon()
    }

    /// Stops the torrent and gives it a fresh runtime for the next resume. Run under
    /// `serialized`, so no other command for the torrent changes its entry meanwhile; the entry
    /// is still changed in place, never overwritten with a copy taken before an `await`.
    func pauseNow(_ hash: InfoHash) async throws {
        guard let entry = entries[hash] else { throw SessionError.unknownTorrent }
        if entry.startPending {
            // Not started yet: it stays as it is, and is kept paused.
            entries[hash]?.startPending = false
            await saveTorrent(hash)
        }
        guard !entry.paused else { return }
        switch entry.phase {
        case .metadata(let fetcher):
            entries[hash]?.stop?.finish()
            // Trackers that answered it know we are here: told we left, as a torrent's are.
            await fetcher.sayStopped()
            // The old fetcher's task is ending; a resume starts a fresh one.
            entries[hash]?.phase = .metadata(makeFetcher(fetcher.magnet, torrentFile: fetcher.torrentFile))
        case .torrent(let old):
            await old.stop()
            entries[hash]?.stop?.finish()
            // The old runtime's task group is ending; the next resume gets a new one.
            let state = await old.persistentState
            let fresh = makeRuntime(old.metainfo, directory: entry.downloadDirectory)
            await fresh.setRestingProgress(await old.currentHave)
            await fresh.restore(state)
            if let entry = entries[hash] { await applyEntrySettings(fresh, entry) }
            entries[hash]?.phase = .torrent(fresh)
        }
        entries[hash]?.stop = nil
        entries[hash]?.paused = true
        await saveTorrent(hash)
    }

    public func resume(_ hash: InfoHash) async throws {
        try await serialized(hash) {
            guard let entry = entries[hash] else { throw SessionError.unknownTorrent }
            // A torrent stopped by a disk error is restarted: its data is checked again and it
            // carries on where the disk let it.
            if !entry.paused, let runtime = entry.runtime, await runtime.snapshotActivity == .error { try await pauseNow(hash) }
            startOrQueue(hash)
            await saveTorrent(hash)
        }
    }

    /// Removes the torrent (and with `deleteData` its own files). It is gone from the session
    /// even when deleting fails; the error then names what is left on disk.
    public func remove(_ hash: InfoHash, deleteData: Bool = false) async throws {
        try await serialized(hash) {
            guard let entry = entries[hash] else { throw SessionError.unknownTorrent }
            try await pauseNow(hash)
            entries[hash] = nil
            restingSlots[hash] = nil
            encryptedTorrents.remove(hash)
            for (alias, target) in v2Aliases where target == hash {
                v2Aliases[alias] = nil
                encryptedTorrents.remove(alias)
            }
            order.removeAll { $0 == hash }
            // Recorded gone before its files go: a crash between leaves no entry without its .torrent.
            savedStates[hash] = nil
            await saveRemoval(hash)
            await store?.forget(hash)
            logger.info("removed", metadata: ["infohash": "\(hash.hex.prefix(12))", "data": "\(deleteData ? "deleted" : "kept")"])
            // Only the torrent's own files (and directories left empty), not whatever else the
            // user keeps beside them. A magnet has none yet.
            if deleteData { try entry.runtime?.storage.deleteFiles() }
        }
    }

    /// Forgets the resume data and checks every piece on disk again (resuming if it was running).
    public func verify(_ hash: InfoHash) async throws {
        try await serialized(hash) {
            let wasRunning = entries[hash].map { !$0.paused } ?? false
            _ = try torrentRuntime(hash)
            // Pausing gives the torrent a fresh runtime; without resume data its check hashes everything.
            try await pauseNow(hash)
            await store?.forgetResume(hash)
            if wasRunning { start(hash) }
            await saveTorrent(hash)
        }
    }

    public func setSeeding(_ hash: InfoHash, _ seed: Bool) async throws {
        try await serialized(hash) {
            try await torrentRuntime(hash).setSeeding(seed)
            await saveTorrent(hash)
        }
    }

    public func setFilePriorities(_ hash: InfoHash, _ priorities: [FilePriority]) async throws {
        try await serialized(hash) {
            try await torrentRuntime(hash).setFilePriorities(priorities)
            await saveTorrent(hash)
        }
    }

    /// Caps for one torrent, in bytes per second (0 = unlimited), on top of the global ones.
    public func setTorrentLimits(_ hash: InfoHash, upload: Int, download: Int) async throws {
        try await serialized(hash) {
            guard let entry = entries[hash] else { throw SessionError.unknownTorrent }
            entries[hash]?.uploadLimit = upload
            entries[hash]?.downloadLimit = download
            // A magnet's limits apply once it is a torrent.
            await entry.runtime?.setLimits(upload: upload, download: download)
            await saveTorrent(hash)
        }
    }

    /// Caps for all torrents together, kept in the session for the next start.
    /// While the alternative limits are in force, these wait for them to be turned off.
    public func setGlobalLimits(upload: Int, download: Int) async {
        if altSpeed.enabled {
            altSpeed.normalUpload = upload
            altSpeed.normalDownload = download
        } else {
            globalUpload.setRate(upload)
            globalDownload.setRate(download)
        }
        await saveSettings()
    }

    /// Peers the user named (`--peer`, a magnet's `x.pe`): dialled like any other, by a torrent
    /// or by a magnet fetching its metadata (which hands them on to its torrent).
    public func addPeers(_ hash: InfoHash, _ peers: [PeerAddress]) async {
        switch entries[hash]?.phase {
        case .metadata(let fetcher): await fetcher.addPeers(peers, source: .manual)
        case .torrent(let runtime): await runtime.addPeers(peers, source: .manual)
        case nil: break
        }
    }

    /// Asks the torrent's trackers for peers now (as soon as they allow).
    /// Closes the connection to `address` ("HOST:PORT", as the Peers tab shows it), and with
    /// `ban` refuses its host from now on (until the torrent stops).
    public func closePeer(_ hash: InfoHash, address: String, ban: Bool) async throws {
        try await serialized(hash) {
            guard let entry = entries[hash] else { throw SessionError.unknownTorrent }
            guard case .torrent(let runtime) = entry.phase, await runtime.closePeer(address: address, ban: ban) else {
                throw SessionError.noSuchPeer(address)
            }
        }
    }

    public func reannounce(_ hash: InfoHash) async throws {
        try await serialized(hash) {
            try await torrentRuntime(hash).reannounce()
        }
    }

    /// Runs `body` once no other command for the torrent is under way, and holds the others
    /// off until it returns: a command's `await`s cannot interleave with another's for the same
    /// torrent (a pause overwrote limits set while it waited; two adds of one torrent both
    /// passed the duplicate check). Waiters are served in order.
    func serialized<T>(_ hash: InfoHash, _ body: () async throws -> T) async throws -> T {
        await takeTurn(hash)
        defer { releaseTurn(hash) }
        return try await body()
    }

    /// The same for a command on several torrents at once (a batch of adds): it waits for each
    /// torrent's turn, in one order for every caller so two batches cannot hold each other up.
    func serialized<T>(all hashes: [InfoHash], _ body: () async throws -> T) async throws -> T {
        let ordered = Set(hashes).sorted { $0.hex < $1.hex }
        for hash in ordered { await takeTurn(hash) }
        defer { for hash in ordered { releaseTurn(hash) } }
        return try await body()
    }

    private func takeTurn(_ hash: InfoHash) async {
        if commandWaiters[hash] != nil {
            // Woken by `release` with the turn handed over: the entry stays, so nobody slips in.
            await withCheckedContinuation { commandWaiters[hash, default: []].append($0) }
        } else {
            commandWaiters[hash] = []
        }
        // Whatever the command changes, a paused torrent's snapshot is taken afresh after it.
        entries[hash]?.resting = nil
    }

    private func releaseTurn(_ hash: InfoHash) {
        entries[hash]?.resting = nil
        guard var waiting = commandWaiters[hash], !waiting.isEmpty else {
            commandWaiters[hash] = nil
            return
        }
        let next = waiting.removeFirst()
        commandWaiters[hash] = waiting
        next.resume()
    }

}
