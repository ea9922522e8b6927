import Foundation
import ShoalCore

/// Methods only `shoal attach` calls: what its interface shows and does that Transmission's RPC
/// has no words for (exact byte limits, seeding on and off, the session's notices).
extension TransmissionRPC {
    /// The status bar's facts in one call, the notices after `notices-after` and the log's
    /// lines after `log-after`.
    func shoalSession(_ arguments: [String: JSONValue]) async -> [String: JSONValue] {
        let snapshot = await session.snapshot()
        let notices = await session.notices(after: arguments["notices-after"]?.int ?? 0)
        let log = session.recentLog(after: arguments["log-after"]?.int ?? 0)
        var out: [String: JSONValue] = [
            "downloadLimit": .int(snapshot.downloadLimit),
            "uploadLimit": .int(snapshot.uploadLimit),
            "listenPort": .int(Int(snapshot.listenPort)),
            "downloadDir": .string(snapshot.downloadDirectory),
            "altSpeedEnabled": .bool(snapshot.altSpeedEnabled),
            "noticeCount": .int(notices.count),
            "notices": .array(notices.messages.map(JSONValue.string)),
            "logCount": .int(log.count),
            "log": .array(log.lines.map(JSONValue.string)),
        ]
        if let free = DiskSpace.of(snapshot.downloadDirectory)?.free { out["freeSpace"] = .int(free) }
        if let nodes = snapshot.dhtNodes { out["dhtNodes"] = .int(nodes) }
        return out
    }

    /// Global limits in bytes per second (0 = none); either may be left out. With `ids`, those
    /// torrents' limits instead.
    func shoalSetLimits(_ arguments: [String: JSONValue]) async throws -> [String: JSONValue] {
        let settings = await session.sessionSettings
        func bytes(_ key: String, _ current: Int) throws -> Int {
            guard let value = arguments[key] else { return current }
            guard let number = value.int, number >= 0 else { throw MethodError("\(key): expected bytes per second, 0 or more") }
            return number
        }
        guard arguments["ids"] != nil else {
            await session.setGlobalLimits(upload: try bytes("upload", settings.normalUpload), download: try bytes("download", settings.normalDownload))
            return [:]
        }
        // With `ids`: those torrents' own caps, to the byte (torrent-set's are in kB/s).
        let numbered = await numberedSnapshot()
        for torrent in select(try Self.selection(arguments["ids"]), from: numbered).map(\.torrent) {
            try await session.setTorrentLimits(torrent.id, upload: try bytes("upload", torrent.details.uploadLimit),
                                               download: try bytes("download", torrent.details.downloadLimit))
        }
        return [:]
    }

    /// Closes the connection to `address` in the torrents of `ids`, banning its host with `ban`.
    func shoalClosePeer(_ arguments: [String: JSONValue]) async throws -> [String: JSONValue] {
        guard let address = arguments["address"]?.string else { throw MethodError("address: expected \"HOST:PORT\"") }
        let numbered = await numberedSnapshot()
        for torrent in select(try Self.selection(arguments["ids"]), from: numbered).map(\.torrent) {
            try await session.closePeer(torrent.id, address: address, ban: arguments["ban"]?.bool ?? false)
        }
        return [:]
    }
}
