import Foundation
import ShoalCore

/// `session-get`, `session-set`, `session-stats` and `free-space`.
extension TransmissionRPC {
    /// Transmission's names for the encryption policies.
    static func encryptionName(_ policy: EncryptionPolicy) -> String {
        switch policy {
        case .require: return "required"
        case .prefer: return "preferred"
        case .allow, .disable: return "tolerated"
        }
    }

    static func encryptionPolicy(_ name: String) -> EncryptionPolicy? {
        switch name {
        case "required": return .require
        case "preferred": return .prefer
        case "tolerated": return .allow
        default: return nil
        }
    }

    func sessionGet(_ arguments: [String: JSONValue]) async throws -> [String: JSONValue] {
        let snapshot = await session.snapshot()
        let settings = await session.sessionSettings
        let directory = await session.downloadDirectory
        let config = session.config
        let kilo = { (bytes: Int) -> JSONValue in .int(bytes / TransmissionRPC.speedUnit) }
        var out: [String: JSONValue] = [
            "rpc-version": .int(Self.rpcVersion),
            "rpc-version-minimum": .int(Self.rpcVersionMinimum),
            "rpc-version-semver": "5.3.0",
            "version": .string(Self.versionString),
            "session-id": .string(sessionID),
            "download-dir": .string(directory),
            "download-dir-free-space": .int(DiskSpace.of(directory)?.free ?? -1),
            "config-dir": .string(config.stateDirectory ?? ""),
            "peer-port": .int(Int(session.listenPort)),
            "peer-port-random-on-start": false,
            "port-forwarding-enabled": false,
            "peer-limit-global": .int(session.peerBudget.limit),
            "peer-limit-per-torrent": .int(await session.peerLimitPerTorrent),
            "dht-enabled": .bool(config.dhtEnabled),
            "pex-enabled": .bool(config.pexEnabled),
            "lpd-enabled": false,
            "utp-enabled": .bool(config.utpEnabled),
            "encryption": .string(Self.encryptionName(await session.encryption)),
            "speed-limit-down": kilo(settings.normalDownload > 0 ? settings.normalDownload : rememberedLimits.download * TransmissionRPC.speedUnit),
            "speed-limit-down-enabled": .bool(settings.normalDownload > 0),
            "speed-limit-up": kilo(settings.normalUpload > 0 ? settings.normalUpload : rememberedLimits.upload * TransmissionRPC.speedUnit),
            "speed-limit-up-enabled": .bool(settings.normalUpload > 0),
            "alt-speed-enabled": .bool(settings.altSpeed.enabled),
            "alt-speed-down": kilo(settings.altSpeed.download),
            "alt-speed-up": kilo(settings.altSpeed.upload),
            // The schedule is a start-time setting (alt_speed_schedule): shown, not changed here.
            "alt-speed-time-enabled": .bool(session.config.altSpeedSchedule != nil),
            "alt-speed-time-begin": .int(session.config.altSpeedSchedule?.begin ?? 540),
            "alt-speed-time-end": .int(session.config.altSpeedSchedule?.end ?? 1020),
            // Transmission's day mask: Sunday 1, Monday 2 … Saturday 64.
            "alt-speed-time-day": .int(session.config.altSpeedSchedule.map { $0.days.reduce(0) { $0 | 1 << ($1 - 1) } } ?? 127),
            "seedRatioLimit": .number(settings.seedRatio ?? 2),
            "seedRatioLimited": .bool(settings.seedRatio != nil),
            "idle-seeding-limit": 30,
            "idle-seeding-limit-enabled": false,
            "start-added-torrents": .bool(await session.startAddedTorrents),
            "trash-original-torrent-files": false,
            "rename-partial-files": false,
            "incomplete-dir": .string(directory),
            "incomplete-dir-enabled": false,
            // Start-time settings (queue_downloads, queue_seeds, queue_stalled_minutes).
            "download-queue-enabled": .bool(session.config.maxActiveDownloads > 0),
            "download-queue-size": .int(session.config.maxActiveDownloads > 0 ? session.config.maxActiveDownloads : snapshot.torrents.count),
            "seed-queue-enabled": .bool(session.config.maxActiveSeeds > 0),
            "seed-queue-size": .int(session.config.maxActiveSeeds > 0 ? session.config.maxActiveSeeds : snapshot.torrents.count),
            "queue-stalled-enabled": .bool(session.config.maxActiveDownloads > 0),
            "queue-stalled-minutes": .int(Int(session.config.queueStalledAfter.components.seconds / 60)),
            "cache-size-mb": 4,
            "blocklist-enabled": false,
            "blocklist-size": 0,
            "blocklist-url": "",
            "script-torrent-done-enabled": false,
            "script-torrent-done-filename": "",
            "units": [
                "speed-units": ["kB/s", "MB/s", "GB/s", "TB/s"], "speed-bytes": 1000,
                "size-units": ["kB", "MB", "GB", "TB"], "size-bytes": 1000,
                "memory-units": ["KiB", "MiB", "GiB", "TiB"], "memory-bytes": 1024,
            ],
        ]
        if let wanted = arguments["fields"]?.array?.compactMap(\.string), !wanted.isEmpty {
            let keep = Set(wanted)
            out = out.filter { keep.contains($0.key) }
        }
        return out
    }

    /// An optional whole-number argument within `range`.
    static func number(_ arguments: [String: JSONValue], _ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = arguments[key] else { return nil }
        guard let number = value.int, range.contains(number) else {
            throw MethodError("\(key): expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    func sessionSet(_ arguments: [String: JSONValue]) async throws -> [String: JSONValue] {
        let fixed = ["peer-port-random-on-start", "dht-enabled",
                     "pex-enabled", "utp-enabled", "lpd-enabled", "port-forwarding-enabled", "incomplete-dir-enabled",
                     "download-queue-enabled", "seed-queue-enabled", "alt-speed-time-enabled", "blocklist-enabled",
                     "script-torrent-done-enabled", "idle-seeding-limit-enabled"]
        // Settings Shoal takes only at start: say so, rather than answer success and ignore them.
        // `false` for a feature Shoal lacks is what it already is, so that passes.
        let refused = fixed.filter { key in
            guard let value = arguments[key] else { return false }
            if key.hasSuffix("-enabled") || key == "peer-port-random-on-start" {
                return value.bool == true && !(key == "dht-enabled" && session.config.dhtEnabled)
                    && !(key == "pex-enabled" && session.config.pexEnabled)
                    && !(key == "alt-speed-time-enabled" && session.config.altSpeedSchedule != nil)
            }
            return true
        }
        guard refused.isEmpty else {
            throw MethodError("\(refused.joined(separator: ", ")): set at start (flags or config.toml), not while running")
        }
        // Checked before anything changes: a bad value leaves the session as it was.
        let port = try Self.number(arguments, "peer-port", in: 1...65535)
        let globalLimit = try Self.number(arguments, "peer-limit-global", in: 1...65535)
        let torrentLimit = try Self.number(arguments, "peer-limit-per-torrent", in: 1...65535)
        if let port {
            // The one change that can fail (the port is taken): first, so nothing else is half-done.
            do {
                try await session.setPeerPort(UInt16(port))
            } catch {
                throw MethodError("peer-port: \(error)")
            }
        }
        if globalLimit != nil || torrentLimit != nil { await session.setPeerLimits(global: globalLimit, perTorrent: torrentLimit) }
        if let name = arguments["encryption"]?.string {
            guard let policy = Self.encryptionPolicy(name) else { throw MethodError("encryption: expected required, preferred or tolerated") }
            try await session.setEncryption(policy)
        }
        if let directory = arguments["download-dir"]?.string {
            guard directory.hasPrefix("/") else { throw MethodError("download-dir: must be an absolute path") }
            await session.setDownloadDirectory(directory)
        }
        if let start = arguments["start-added-torrents"] {
            guard let value = start.bool else { throw MethodError("start-added-torrents: expected true or false") }
            await session.setStartAddedTorrents(value)
        }
        let settings = await session.sessionSettings
        var upload = settings.normalUpload
        var download = settings.normalDownload
        if let value = try speedValue(arguments, "speed-limit-up") {
            rememberedLimits.upload = value
            if upload > 0 || arguments["speed-limit-up-enabled"]?.bool == true { upload = value * TransmissionRPC.speedUnit }
        }
        if let value = try speedValue(arguments, "speed-limit-down") {
            rememberedLimits.download = value
            if download > 0 || arguments["speed-limit-down-enabled"]?.bool == true { download = value * TransmissionRPC.speedUnit }
        }
        if let on = arguments["speed-limit-up-enabled"]?.bool {
            if !on, upload > 0 { rememberedLimits.upload = upload / TransmissionRPC.speedUnit }
            upload = on ? (upload > 0 ? upload : rememberedLimits.upload * TransmissionRPC.speedUnit) : 0
        }
        if let on = arguments["speed-limit-down-enabled"]?.bool {
            if !on, download > 0 { rememberedLimits.download = download / TransmissionRPC.speedUnit }
            download = on ? (download > 0 ? download : rememberedLimits.download * TransmissionRPC.speedUnit) : 0
        }
        if upload != settings.normalUpload || download != settings.normalDownload {
            await session.setGlobalLimits(upload: upload, download: download)
        }
        let altUp = try speedValue(arguments, "alt-speed-up")
        let altDown = try speedValue(arguments, "alt-speed-down")
        let altOn = arguments["alt-speed-enabled"]?.bool
        if altUp != nil || altDown != nil || altOn != nil {
            await session.setAltSpeed(enabled: altOn, upload: altUp.map { $0 * TransmissionRPC.speedUnit }, download: altDown.map { $0 * TransmissionRPC.speedUnit })
        }
        if arguments["seedRatioLimit"] != nil || arguments["seedRatioLimited"] != nil {
            let limit = arguments["seedRatioLimit"]?.double ?? settings.seedRatio ?? 2
            guard limit >= 0 else { throw MethodError("seedRatioLimit: must be 0 or more") }
            let limited = arguments["seedRatioLimited"]?.bool ?? (settings.seedRatio != nil)
            await session.setSessionSeedRatio(limited ? limit : nil)
        }
        return [:]
    }

    /// A KiB/s setting, checked.
    func speedValue(_ arguments: [String: JSONValue], _ key: String) throws -> Int? {
        guard let value = arguments[key] else { return nil }
        guard let number = value.int, number >= 0, number < Int(Int32.max) else { throw MethodError("\(key): expected a whole number of kB/s") }
        return number
    }

    func sessionStats() async -> [String: JSONValue] {
        let torrents = await numberedSnapshot().map(\.torrent)
        let uploaded = torrents.reduce(Int64(0)) { $0 + $1.uploaded }
        let downloaded = torrents.reduce(Int64(0)) { $0 + $1.downloaded }
        let start = startTotals ?? (uploaded, downloaded)
        let seconds = Int64(Date().timeIntervalSince(started))
        let paused = torrents.filter { [.paused, .finished, .error].contains($0.activity) }.count
        let current: JSONValue = ["uploadedBytes": .int(max(0, uploaded - start.uploaded)),
                                  "downloadedBytes": .int(max(0, downloaded - start.downloaded)),
                                  "filesAdded": .int(torrents.count), "sessionCount": 1, "secondsActive": .int(seconds)]
        let cumulative: JSONValue = ["uploadedBytes": .int(uploaded), "downloadedBytes": .int(downloaded),
                                     "filesAdded": .int(torrents.count), "sessionCount": 1, "secondsActive": .int(seconds)]
        return [
            "activeTorrentCount": .int(torrents.count - paused),
            "pausedTorrentCount": .int(paused),
            "torrentCount": .int(torrents.count),
            "downloadSpeed": .int(Int64(torrents.reduce(0) { $0 + $1.downloadRate })),
            "uploadSpeed": .int(Int64(torrents.reduce(0) { $0 + $1.uploadRate })),
            "current-stats": current,
            "cumulative-stats": cumulative,
        ]
    }

    func freeSpace(_ arguments: [String: JSONValue]) throws -> [String: JSONValue] {
        guard let path = arguments["path"]?.string else { throw MethodError("free-space: missing 'path'") }
        guard path.hasPrefix("/") else { throw MethodError("free-space: '\(path)' is not an absolute path") }
        guard let space = DiskSpace.of(path) else { throw MethodError("free-space: \(path): \(String(cString: strerror(errno)))") }
        return ["path": .string(path), "size-bytes": .int(space.free), "total_size": .int(space.total)]
    }
}
