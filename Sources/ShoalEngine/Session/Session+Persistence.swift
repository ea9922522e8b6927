import Foundation
import ShoalCore

/// The session between runs: what `restore()` brings back from the state directory; each
/// change appended to the session's journal as it happens, running torrents' totals once a
/// minute, and the session file written whole when the journal has grown and at shutdown.
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
            if let remote = session.remote {
                altSpeed = remote.altSpeed
                // The command line and the config file win over what a remote set last run.
                if config.seedRatioLimit == nil { sessionSeedRatio = remote.seedRatioLimit }
                if let up = config.altUploadLimit { altSpeed.upload = up }
                if let down = config.altDownloadLimit { altSpeed.download = down }
                if config.restoresDownloadDirectory, let directory = remote.downloadDirectory { downloadDirectory = directory }
                startAddedTorrents = remote.startAddedTorrents ?? true
                if let peers = remote.peers { problems += await restorePeerSettings(peers) }
            }
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
        // Read ahead a run at a time, two threads reading and parsing while the actor adds.
        var next = 0
        var preloaded: [Preloaded?] = []
        for (index, record) in saved.enumerated() {
            if index == next {
                let run = saved[index..<min(saved.count, index + Self.restoreRun)]
                preloaded = await Self.preload(run, store: store)
                next = index + run.count
            }
            let ahead = preloaded[index - (next - preloaded.count)]
            guard let hash = InfoHash(text: record.infoHash) else { continue }
            // A magnet whose metadata never arrived: fetch it again.
            if let text = record.magnet, !store.hasTorrent(hash) {
                do {
                    try await add(magnet: MagnetLink(parsing: text), downloadDirectory: record.downloadDirectory,
                                  paused: record.paused, added: record.added)
                    // Its limits wait in the entry for the torrent it becomes.
                    if let up = record.uploadLimit, let down = record.downloadLimit {
                        entries[hash]?.uploadLimit = up
                        entries[hash]?.downloadLimit = down
                    }
                    entries[hash]?.labels = record.labels ?? []
                    entries[hash]?.seedRatio = record.seedRatio ?? .session
                    entries[hash]?.peerLimit = record.peerLimit
                } catch {
                    problems.append("cannot restore \(record.infoHash): \(error)")
                }
                continue
            }
            do {
                let metainfo = try ahead.map { try $0.metainfo.get() } ?? store.loadTorrent(hash)
                let priorities = record.filePriorities.count == metainfo.info.files.count
                    ? record.filePriorities.map { FilePriority(rawValue: $0) ?? .normal } : nil
                _ = try await insert(metainfo, downloadDirectory: record.downloadDirectory, paused: true,
                                     filePriorities: priorities, added: record.added, resume: ahead.map(\.resume), forRun: !record.paused)
                let runtime = try torrentRuntime(hash)
                // What the file says is what the journal has: the first save after a start
                // appended all 100,000 records because none was known saved.
                savedStates[hash] = await runtime.restoreCounters(uploaded: record.uploaded, downloaded: record.downloaded,
                                                                  completed: record.completed, activity: record.activity,
                                                                  seedWhenDone: record.seedWhenDone)
                if let up = record.uploadLimit, let down = record.downloadLimit {
                    entries[hash]?.uploadLimit = up
                    entries[hash]?.downloadLimit = down
                }
                entries[hash]?.labels = record.labels ?? []
                entries[hash]?.seedRatio = record.seedRatio ?? .session
                entries[hash]?.trackers = record.trackers
                entries[hash]?.sequential = record.sequential ?? false
                entries[hash]?.peerLimit = record.peerLimit
                if let entry = entries[hash] { await applyEntrySettings(runtime, entry) }
                if !record.paused { startOrQueue(hash, planNow: false) }
            } catch {
                problems.append("cannot restore \(record.infoHash): \(error)")
            }
        }
        startQueuedIfRoom()
        return problems
    }

    /// A saved torrent read from the state directory ahead of its restore.
    struct Preloaded: Sendable {
        let metainfo: Result<Metainfo, StorageError>
        let resume: ResumeData?
    }

    static let restoreRun = 1024

    /// Reads and parses the torrents (and resume data) of `records`, in two halves at once, off
    /// the actor: at 100,000 torrents, reading them one by one on the actor was most of a start.
    /// nil for a magnet that never got its metadata.
    nonisolated static func preload(_ records: ArraySlice<SessionStore.Entry>, store: SessionStore) async -> [Preloaded?] {
        @Sendable func load(_ part: ArraySlice<SessionStore.Entry>) -> [Preloaded?] {
            part.map { record in
                guard let hash = InfoHash(text: record.infoHash), record.magnet == nil || store.hasTorrent(hash) else { return nil }
                let metainfo: Result<Metainfo, StorageError>
                do {
                    metainfo = .success(try store.loadTorrent(hash))
                } catch let error as StorageError {
                    metainfo = .failure(error)
                } catch {
                    metainfo = .failure(StorageError("\(error)"))
                }
                return Preloaded(metainfo: metainfo, resume: store.loadResume(hash))
            }
        }
        let middle = records.startIndex + records.count / 2
        async let first = load(records[records.startIndex..<middle])
        let second = load(records[middle...])
        return await first + second
    }

    /// Writes the session file whole: every torrent, its place, state and totals. Changes to
    /// append from here on go to a new journal, begun before the records are gathered, so one
    /// that comes in meanwhile is in the journal that follows the file.
    func saveSession() async {
        guard let store else { return }
        // Not restored: the file written now replaces whatever the directory held, journals too.
        if !journalReady { journalGeneration = max(journalGeneration, SessionJournal.generations(in: store.directory).last ?? 0) }
        journalGeneration += 1
        journalRecords = 0
        journalReady = true
        let journal = journalGeneration
        var records: [SessionStore.Entry] = []
        records.reserveCapacity(order.count)
        for hash in order {
            if let record = await record(for: hash) { records.append(record) }
        }
        do {
            try await store.saveEntries(records, limits: SessionStore.Limits(upload: normalLimits.upload, download: normalLimits.download),
                                        remote: remoteSettings, journal: journal)
        } catch {
            report("\(error)")
        }
    }

    /// One torrent's record as it stands, appended to the journal (its place is kept: a new
    /// torrent goes last, as in `order`).
    func saveTorrent(_ hash: InfoHash) async {
        guard let record = await record(for: hash) else { return }
        await append([.put(record)])
    }

    /// Several torrents' records in one append (a batch of adds).
    func saveTorrents(_ hashes: [InfoHash]) async {
        var records: [SessionJournal.Record] = []
        for hash in hashes {
            if let record = await record(for: hash) { records.append(.put(record)) }
        }
        await append(records)
    }

    func saveRemoval(_ hash: InfoHash) async {
        await append([.remove(infoHash: hash.hex)])
    }

    /// The global limits and what remotes set, appended to the journal.
    func saveSettings() async {
        await append([.settings(limits: SessionStore.Limits(upload: normalLimits.upload, download: normalLimits.download),
                                remote: remoteSettings)])
    }

    private func append(_ records: [SessionJournal.Record]) async {
        guard let store, !records.isEmpty else { return }
        // Before `restore()` the journal the file names is not known: the whole file it is.
        guard journalReady else { return await saveSession() }
        journalRecords += records.count
        do {
            try await store.append(records, journal: journalGeneration)
        } catch {
            report("\(error)")
        }
        // The journals hold more records than the file has torrents: time to write it whole.
        if journalRecords > max(Self.journalRecordsBeforeRewrite, order.count) { await saveSession() }
    }

    static let journalRecordsBeforeRewrite = 4096

    var remoteSettings: SessionStore.RemoteSettings {
        SessionStore.RemoteSettings(altSpeed: altSpeed, seedRatioLimit: sessionSeedRatio, downloadDirectory: downloadDirectory,
                                    startAddedTorrents: startAddedTorrents ? nil : false,
                                    peers: remotePeerSettings == SessionStore.PeerSettings() ? nil : remotePeerSettings)
    }

    /// The torrents whose totals, completion or last activity moved since the journal last had
    /// them, in one append and one sync: a paused torrent does not change, so an idle session
    /// appends nothing.
    func saveChangedTorrents() async {
        var changed: [SessionJournal.Record] = []
        for hash in order {
            guard let entry = entries[hash], !entry.paused, case .torrent(let runtime) = entry.phase else { continue }
            let state = await runtime.persistentState
            guard savedStates[hash] != state, let entry = entries[hash] else { continue }
            savedStates[hash] = state
            changed.append(.put(Self.record(hash, entry, state)))
        }
        await append(changed)
    }

    /// The torrent's record for the session file (nil when it is gone).
    func record(for hash: InfoHash) async -> SessionStore.Entry? {
        guard let entry = entries[hash] else { return nil }
        guard case .torrent(let runtime) = entry.phase else {
            guard case .metadata(let fetcher) = entry.phase else { return nil }
            return SessionStore.Entry(
                infoHash: hash.hex, downloadDirectory: entry.downloadDirectory, paused: entry.paused && !entry.queued, seedWhenDone: true,
                filePriorities: [], added: entry.added, completed: nil, uploaded: 0, downloaded: 0,
                uploadLimit: entry.uploadLimit, downloadLimit: entry.downloadLimit, magnet: fetcher.magnet.uri,
                labels: entry.labels, seedRatio: entry.seedRatio, peerLimit: entry.peerLimit)
        }
        let state = await runtime.persistentState
        // The entry as it is after the runtime answered.
        guard let entry = entries[hash] else { return nil }
        return Self.record(hash, entry, state)
    }

    /// A torrent's record from its entry and its runtime's state.
    static func record(_ hash: InfoHash, _ entry: Entry, _ state: PersistentState) -> SessionStore.Entry {
        SessionStore.Entry(
            // A queued torrent is one the user wants running: it queues again after a restart.
            infoHash: hash.hex, downloadDirectory: entry.downloadDirectory, paused: entry.paused && !entry.queued,
            seedWhenDone: state.seedWhenDone, filePriorities: state.priorities.map(\.rawValue), added: entry.added,
            completed: state.completed, uploaded: state.uploaded, downloaded: state.downloaded,
            uploadLimit: entry.uploadLimit, downloadLimit: entry.downloadLimit, labels: entry.labels,
            seedRatio: entry.seedRatio, trackers: entry.trackers, sequential: entry.sequential ? true : nil,
            activity: state.activity, peerLimit: entry.peerLimit)
    }

    /// Saves the session once a minute (totals move), until shutdown. The shutdown signal is
    /// waited for by one task for the loop's whole life: a wait started afresh each round and
    /// cancelled when the minute was up finished the stream, and saving stopped after a minute.
    func saveLoop() async {
        guard store != nil else { return }
        let signal = shutdownSignal
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in signal {}
            }
            group.addTask {
                while (try? await Task.sleep(for: self.config.sessionSaveInterval)) != nil {
                    await self.saveChangedTorrents()
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
