import Foundation
import ShoalCore

/// A torrent's ratio goal: the session's, its own, or none (Transmission's `seedRatioMode` 0/1/2).
public enum SeedRatioGoal: Codable, Sendable, Hashable {
    case session
    case own(Double)
    case unlimited
}

/// The alternative ("turtle") speed limits, in bytes per second, and the normal ones they stand
/// in for while enabled.
public struct AltSpeed: Codable, Sendable, Equatable {
    public var enabled = false
    /// Transmission's defaults, 50 kB/s each way.
    public var upload = 50_000
    public var download = 50_000
    /// The normal limits, kept while the alternative ones are in force.
    public var normalUpload = 0
    public var normalDownload = 0
    public init() {}
}

/// What remotes change beyond the interface's commands: labels, ratio goals, the alternative
/// limits, and where a torrent's data lives.
extension Session {
    /// The limits and ratio goal an entry asks for, given to a (new) runtime of it.
    func applyEntrySettings(_ runtime: TorrentRuntime, _ entry: Entry) async {
        await runtime.setLimits(upload: entry.uploadLimit, download: entry.downloadLimit)
        await runtime.setSeedRatioLimit(effectiveSeedRatio(entry))
        if let trackers = entry.trackers { await runtime.setTrackers(trackers) }
        await runtime.setSequential(entry.sequential)
        await runtime.setPeerLimit(effectivePeerLimit(entry))
    }

    /// Sequential download on or off (kept in the session file).
    public func setSequential(_ hash: InfoHash, _ on: Bool) async throws {
        try await serialized(hash) {
            guard let entry = entries[hash] else { throw SessionError.unknownTorrent }
            entries[hash]?.sequential = on
            await entry.runtime?.setSequential(on)
            await saveTorrent(hash)
        }
    }

    func effectiveSeedRatio(_ entry: Entry) -> Double? {
        switch entry.seedRatio {
        case .session: return sessionSeedRatio
        case .own(let ratio): return ratio
        case .unlimited: return nil
        }
    }

    /// The normal global limits, whether or not the alternative ones are in force.
    var normalLimits: (upload: Int, download: Int) {
        altSpeed.enabled ? (altSpeed.normalUpload, altSpeed.normalDownload) : (globalUpload.rate, globalDownload.rate)
    }

    public func setLabels(_ hash: InfoHash, _ labels: [String]) async throws {
        try await serialized(hash) {
            guard entries[hash] != nil else { throw SessionError.unknownTorrent }
            entries[hash]?.labels = labels
            await saveTorrent(hash)
        }
    }

    public func setSeedRatioGoal(_ hash: InfoHash, _ goal: SeedRatioGoal) async throws {
        try await serialized(hash) {
            guard let entry = entries[hash] else { throw SessionError.unknownTorrent }
            entries[hash]?.seedRatio = goal
            if let runtime = entry.runtime { await runtime.setSeedRatioLimit(effectiveSeedRatio(entries[hash]!)) }
            await saveTorrent(hash)
        }
    }

    /// The session's ratio goal, for every torrent that follows it.
    public func setSessionSeedRatio(_ ratio: Double?) async {
        sessionSeedRatio = ratio
        for entry in entries.values where entry.seedRatio == .session {
            await entry.runtime?.setSeedRatioLimit(ratio)
        }
        await saveSettings()
    }

    public var sessionSettings: (seedRatio: Double?, altSpeed: AltSpeed, normalUpload: Int, normalDownload: Int) {
        (sessionSeedRatio, altSpeed, normalLimits.upload, normalLimits.download)
    }

    /// Sets the alternative limits and whether they are in force; the normal ones come back
    /// when they are turned off.
    public func setAltSpeed(enabled: Bool? = nil, upload: Int? = nil, download: Int? = nil) async {
        let normal = normalLimits
        if let upload { altSpeed.upload = upload }
        if let download { altSpeed.download = download }
        let wanted = enabled ?? altSpeed.enabled
        altSpeed.normalUpload = normal.upload
        altSpeed.normalDownload = normal.download
        altSpeed.enabled = wanted
        globalUpload.setRate(wanted ? altSpeed.upload : normal.upload)
        globalDownload.setRate(wanted ? altSpeed.download : normal.download)
        await saveSettings()
    }

    /// Moves the torrent to `directory` (with `move`, its data too; without, the data is
    /// looked for there and checked). A running torrent stops for the move and carries on after.
    public func setLocation(_ hash: InfoHash, directory: String, move: Bool) async throws {
        try await serialized(hash) {
            guard let entry = entries[hash] else { throw SessionError.unknownTorrent }
            let target = AbsolutePath.resolve(directory)
            let wasRunning = !entry.paused
            try await pauseNow(hash)
            guard case .torrent(let runtime) = entries[hash]?.phase else {
                // A magnet has no data yet: only where it will go changes.
                entries[hash]?.downloadDirectory = target
                if wasRunning { start(hash) }
                await saveTorrent(hash)
                return
            }
            if move {
                let progress = MoveProgress(destination: target)
                entries[hash]?.move = progress
                defer { entries[hash]?.move = nil }
                do {
                    // A copy across filesystems can take minutes: on the I/O pool, not this actor's thread.
                    let (storage, copying) = (runtime.storage, config.movesCopy)
                    try await pool.runIfActive { try storage.moveTopLevel(to: target, progress: progress, copying: copying) }
                } catch {
                    // The caller says why (`moveInBackground` logs it and tells the user, the RPC answers with it).
                    if wasRunning { start(hash) }
                    throw error
                }
            }
            entries[hash]?.downloadDirectory = target
            // A runtime for the new place; without a move, what is there is checked afresh.
            let state = await runtime.persistentState
            let fresh = makeRuntime(runtime.metainfo, directory: target)
            if move, let have = await runtime.currentHave {
                // The same bytes under new paths: resume data for those, so nothing is hashed again.
                await fresh.setRestingProgress(have)
                do {
                    try await store?.saveResume(ResumeData.make(infoHash: hash, have: have, paths: fresh.storage.diskPaths), for: hash)
                } catch {
                    report("\(runtime.metainfo.info.name): cannot save resume data after the move: \(error)")
                }
            } else if !move {
                await store?.forgetResume(hash)
            }
            await fresh.restore(state)
            if let updated = entries[hash] { await applyEntrySettings(fresh, updated) }
            if !move { await fresh.loadRestingProgress() }
            entries[hash]?.phase = .torrent(fresh)
            logger.info("moved", metadata: ["infohash": "\(hash.hex.prefix(12))", "to": "\(target)", "data": "\(move ? "moved" : "left")"])
            if wasRunning { start(hash) }
            await saveTorrent(hash)
        }
    }

    /// Moves the torrent's data to `directory` in the background, as Transmission does: the
    /// snapshot shows its progress (`move`), a failure is reported as a notice and in the log.
    public func startMove(_ hash: InfoHash, directory: String) throws {
        guard entries[hash] != nil else { throw SessionError.unknownTorrent }
        spawnContinuation.yield(.move(hash, directory: directory))
    }

    func moveInBackground(_ hash: InfoHash, directory: String) async {
        guard let entry = entries[hash] else { return }
        let name = entry.runtime?.metainfo.info.name ?? String(hash.hex.prefix(12))
        do {
            try await setLocation(hash, directory: directory, move: true)
            report("\(name): moved the data to \(AbsolutePath.resolve(directory))", level: .info)
        } catch {
            report("\(name): cannot move the data: \(error)")
        }
    }

    /// Where new torrents go unless told otherwise.
    public func setDownloadDirectory(_ directory: String) async {
        downloadDirectory = AbsolutePath.resolve(directory)
        await saveSettings()
    }

    public func setStartAddedTorrents(_ start: Bool) async {
        startAddedTorrents = start
        await saveSettings()
    }

    /// The encryption policy in force for the next connections.
    public var encryption: EncryptionPolicy { (transport as? TCPTransport)?.encryption ?? config.encryption }

    public func setEncryption(_ policy: EncryptionPolicy) throws {
        guard let tcp = transport as? TCPTransport else { throw SessionError.unsupported("this transport has a fixed encryption policy") }
        tcp.policy.set(policy)
        logger.info("encryption set", metadata: ["policy": "\(policy.rawValue)"])
    }
}

extension Session.Entry {
    /// What the entry (not the runtime) knows of its torrent, for snapshots.
    func describe(_ details: inout TorrentDetails) {
        details.added = added
        details.location = downloadDirectory
        details.labels = labels
        details.seedRatio = seedRatio
        details.peerLimit = peerLimit
        details.uploadLimit = uploadLimit
        details.downloadLimit = downloadLimit
    }
}
