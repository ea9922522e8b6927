import Foundation
import ShoalCore

/// The session between runs, as it goes (`restore()` brings it back): each change appended to
/// the session's journal as it happens, running torrents' totals once a minute, and the
/// session file written whole when the journal has grown and at shutdown.
extension Session {
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
            infoHash: hash.hex, downloadDirectory: entry.downloadDirectory, paused: entry.paused && !entry.queued && !entry.startPending,
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
