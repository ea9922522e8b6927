import Foundation
import ShoalCore

/// The session between runs: what `restore()` brings back from the state directory, and the
/// session file written on every change and once a minute.
extension Session {
    /// Brings back the torrents of the last run, as they were left. Returns problems to report;
    /// a torrent that cannot be restored is skipped, never fatal.
    public func restore() async -> [String] {
        guard let store else { return [] }
        let saved: [SessionStore.Entry]
        do {
            let session = try store.loadSession()
            saved = session.torrents
            if let remote = session.remote {
                altSpeed = remote.altSpeed
                // The command line and the config file win over what a remote set last run.
                if config.seedRatioLimit == nil { sessionSeedRatio = remote.seedRatioLimit }
                if let up = config.altUploadLimit { altSpeed.upload = up }
                if let down = config.altDownloadLimit { altSpeed.download = down }
                if config.restoresDownloadDirectory, let directory = remote.downloadDirectory { downloadDirectory = directory }
                startAddedTorrents = remote.startAddedTorrents ?? true
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
        var problems: [String] = []
        for record in saved {
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
                } catch {
                    problems.append("cannot restore \(record.infoHash): \(error)")
                }
                continue
            }
            do {
                let metainfo = try store.loadTorrent(hash)
                let priorities = record.filePriorities.count == metainfo.info.files.count
                    ? record.filePriorities.map { FilePriority(rawValue: $0) ?? .normal } : nil
                _ = try await insert(metainfo, downloadDirectory: record.downloadDirectory, paused: true,
                                     filePriorities: priorities, added: record.added)
                let runtime = try torrentRuntime(hash)
                await runtime.restoreCounters(uploaded: record.uploaded, downloaded: record.downloaded,
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
                if let entry = entries[hash] { await applyEntrySettings(runtime, entry) }
                if !record.paused { startOrQueue(hash) }
            } catch {
                problems.append("cannot restore \(record.infoHash): \(error)")
            }
        }
        return problems
    }

    /// Writes the session file: every torrent, its place, state and totals.
    func saveSession() async {
        guard let store else { return }
        var records: [SessionStore.Entry] = []
        for hash in order {
            guard let entry = entries[hash] else { continue }
            guard case .torrent(let runtime) = entry.phase else {
                if case .metadata(let fetcher) = entry.phase {
                    records.append(SessionStore.Entry(
                        infoHash: hash.hex, downloadDirectory: entry.downloadDirectory, paused: entry.paused && !entry.queued, seedWhenDone: true,
                        filePriorities: [], added: entry.added, completed: nil, uploaded: 0, downloaded: 0,
                        uploadLimit: entry.uploadLimit, downloadLimit: entry.downloadLimit, magnet: fetcher.magnet.uri,
                        labels: entry.labels, seedRatio: entry.seedRatio))
                }
                continue
            }
            let state = await runtime.persistentState
            records.append(SessionStore.Entry(
                // A queued torrent is one the user wants running: it queues again after a restart.
                infoHash: hash.hex, downloadDirectory: entry.downloadDirectory, paused: entry.paused && !entry.queued,
                seedWhenDone: state.seedWhenDone, filePriorities: state.priorities.map(\.rawValue), added: entry.added,
                completed: state.completed, uploaded: state.uploaded, downloaded: state.downloaded,
                uploadLimit: entry.uploadLimit, downloadLimit: entry.downloadLimit, labels: entry.labels,
                seedRatio: entry.seedRatio, trackers: entry.trackers, sequential: entry.sequential ? true : nil,
                activity: state.activity))
        }
        do {
            try await store.saveEntries(records, limits: SessionStore.Limits(upload: normalLimits.upload, download: normalLimits.download),
                                  remote: SessionStore.RemoteSettings(altSpeed: altSpeed, seedRatioLimit: sessionSeedRatio,
                                                                      downloadDirectory: downloadDirectory,
                                                                      startAddedTorrents: startAddedTorrents ? nil : false))
        } catch {
            report("\(error)")
        }
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
                    await self.saveSession()
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
