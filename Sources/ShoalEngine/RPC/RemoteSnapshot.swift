import Foundation
import ShoalCore

/// A daemon's state read back through the RPC as the snapshots the interface draws: what
/// `shoal attach` shows. Every torrent comes with its list fields; only the one the user looks
/// at comes with its pieces, peers' pieces, trackers and files (`detailFields`).
public enum RemoteSnapshot {
    public static let listFields = ["id", "hashString", "name", "totalSize", "sizeWhenDone", "haveValid", "status", "error", "errorString",
                                    "rateDownload", "rateUpload", "downloadedEver", "uploadedEver", "eta", "peers", "downloadDir",
                                    "isPrivate", "pieceCount", "addedDate", "labels", "sequentialDownload", "shoal"]
    public static let detailFields = listFields + ["pieces", "trackerStats", "files", "shoal-detail", "pieceSize", "comment", "creator",
                                                   "dateCreated", "doneDate", "magnetLink"]

    /// `list`: `torrent-get` of every torrent with `listFields`; `detail`: of one with
    /// `detailFields`, which replaces its row; `session`: the `shoal-session` answer.
    public static func decode(list: [JSONValue], detail: JSONValue?, session: [String: JSONValue],
                              now: Date = Date(), clockNow: ContinuousClock.Instant = .now) -> SessionSnapshot {
        let detailHash = detail?["hashString"]?.string
        let torrents = list.compactMap { row -> TorrentSnapshot? in
            let source = row["hashString"]?.string == detailHash ? detail ?? row : row
            return torrent(source, now: now, clockNow: clockNow)
        }
        var snapshot = SessionSnapshot(
            torrents: torrents, downloadRate: torrents.reduce(0) { $0 + $1.downloadRate }, uploadRate: torrents.reduce(0) { $0 + $1.uploadRate },
            listenPort: UInt16(clamping: session["listenPort"]?.int ?? 0), downloadLimit: session["downloadLimit"]?.int ?? 0,
            uploadLimit: session["uploadLimit"]?.int ?? 0, downloadDirectory: session["downloadDir"]?.string ?? "")
        snapshot.dhtNodes = session["dhtNodes"]?.int
        snapshot.altSpeedEnabled = session["altSpeedEnabled"]?.bool ?? false
        return snapshot
    }

    static func torrent(_ row: JSONValue, now: Date, clockNow: ContinuousClock.Instant) -> TorrentSnapshot? {
        guard let hash = row["hashString"]?.string.flatMap(InfoHash.init(text:)) else { return nil }
        let shoal = row["shoal"]
        let detail = row["shoal-detail"]
        let name = row["name"]?.string ?? hash.hex
        let pieceCount = row["pieceCount"]?.int ?? 0
        let activity = shoal?["activity"]?.string.flatMap(TorrentActivity.init(rawValue:)) ?? activityFromStatus(row)
        let peerPieces = detail?["peerPieces"]?.array ?? []
        let peers = (row["peers"]?.array ?? []).enumerated().map { index, peer in
            PeerSnapshot(address: PeerAddress(host: peer["address"]?.string ?? "?", port: UInt16(clamping: peer["port"]?.int ?? 0)).description,
                         client: peer["clientName"]?.string ?? "", flags: peer["flagStr"]?.string ?? "",
                         downloadRate: peer["rateToClient"]?.double ?? 0, uploadRate: peer["rateToPeer"]?.double ?? 0,
                         progress: peer["progress"]?.double ?? 0,
                         pieces: bitfield(index < peerPieces.count ? peerPieces[index].string : nil, count: pieceCount))
        }
        let instant = { (value: JSONValue?) -> ContinuousClock.Instant? in
            guard let seconds = value?.double, seconds > 0 else { return nil }
            return clockNow + .seconds(seconds - now.timeIntervalSince1970)
        }
        let statuses = detail?["trackerStatus"]?.array ?? []
        let trackers = (row["trackerStats"]?.array ?? []).enumerated().map { index, stats in
            let result = stats["lastAnnounceResult"]?.string ?? ""
            let failed = stats["hasAnnounced"]?.bool == true && stats["lastAnnounceSucceeded"]?.bool == false
            var tracker = TrackerSnapshot(url: stats["announce"]?.string ?? "", tier: stats["tier"]?.int ?? 0,
                                          status: index < statuses.count ? statuses[index].string ?? "" : (failed ? "error" : "working"),
                                          error: failed ? result : nil, lastAnnounce: instant(stats["lastAnnounceTime"]),
                                          nextAnnounce: instant(stats["nextAnnounceTime"]), seeders: count(stats["seederCount"]),
                                          leechers: count(stats["leecherCount"]), peersReturned: stats["lastAnnouncePeerCount"]?.int ?? 0)
            tracker.completed = count(stats["downloadCount"])
            tracker.lastScrape = instant(stats["lastScrapeTime"])
            return tracker
        }
        let priorities = detail?["filePriorities"]?.array ?? []
        let rawFiles = row["files"]?.array ?? []
        let single = rawFiles.count == 1 && rawFiles.first?["name"]?.string == name
        let files = rawFiles.enumerated().map { index, file in
            var path = file["name"]?.string ?? ""
            if !single, path.hasPrefix(name + "/") { path.removeFirst(name.count + 1) }
            let priority = index < priorities.count ? priorities[index].int.flatMap(FilePriority.init(rawValue:)) : nil
            return FileSnapshot(path: path, size: Int64(file["length"]?.int ?? 0), haveSize: Int64(file["bytesCompleted"]?.int ?? 0),
                                priority: priority ?? .normal)
        }
        var closes = CloseCounts()
        for (kind, value) in shoal?["closeReasons"]?.object ?? [:] {
            if let kind = CloseReason.Kind(rawValue: kind), let times = value.int { closes.add(kind, count: times) }
        }
        let error = row["errorString"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        var snapshot = TorrentSnapshot(
            id: hash, name: name, totalSize: Int64(row["totalSize"]?.int ?? 0),
            wantedSize: Int64(shoal?["wantedSize"]?.int ?? row["sizeWhenDone"]?.int ?? 0),
            haveSize: Int64(shoal?["haveSize"]?.int ?? row["haveValid"]?.int ?? 0), activity: activity,
            error: row["error"]?.int == 3 ? error : nil,
            downloadRate: row["rateDownload"]?.double ?? 0, uploadRate: row["rateUpload"]?.double ?? 0,
            downloaded: Int64(row["downloadedEver"]?.int ?? 0), uploaded: Int64(row["uploadedEver"]?.int ?? 0),
            eta: row["eta"]?.int.flatMap { $0 >= 0 ? $0 : nil }, pieces: bitfield(row["pieces"]?.string, count: pieceCount),
            piecesInProgress: (detail?["piecesInProgress"]?.array ?? []).compactMap(\.int),
            availability: (detail?["availability"]?.array ?? []).compactMap(\.int), peers: peers, trackers: trackers, files: files,
            downloadDirectory: shoal?["path"]?.string ?? row["downloadDir"]?.string ?? "", isPrivate: row["isPrivate"]?.bool ?? false,
            hashFailures: shoal?["hashFailures"]?.int ?? 0, bannedPeers: shoal?["bannedPeers"]?.int ?? 0,
            piecesHashedOnCheck: shoal?["piecesHashedOnCheck"]?.int ?? 0, closeReasons: closes)
        snapshot.details.pieceLength = row["pieceSize"]?.int ?? 0
        snapshot.details.uploadLimit = detail?["uploadLimit"]?.int ?? 0
        snapshot.details.downloadLimit = detail?["downloadLimit"]?.int ?? 0
        snapshot.details.seedRatio = ShoalExtension.seedRatio(detail?["seedRatio"])
        snapshot.details.comment = row["comment"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        snapshot.details.createdBy = row["creator"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        snapshot.details.creationDate = row["dateCreated"]?.int.flatMap { $0 > 0 ? Int64($0) : nil }
        snapshot.details.added = row["addedDate"]?.double.flatMap { $0 > 0 ? Date(timeIntervalSince1970: $0) : nil }
        snapshot.details.completed = row["doneDate"]?.double.flatMap { $0 > 0 ? Date(timeIntervalSince1970: $0) : nil }
        snapshot.details.labels = (row["labels"]?.array ?? []).compactMap(\.string)
        snapshot.details.sequential = row["sequentialDownload"]?.bool ?? false
        snapshot.details.magnetURI = row["magnetLink"]?.string
        snapshot.details.location = row["downloadDir"]?.string ?? ""
        snapshot.details.isSingleFile = single || rawFiles.isEmpty
        if let move = shoal?["move"], let destination = move["destination"]?.string {
            snapshot.move = MoveSnapshot(destination: destination, fraction: move["fraction"]?.double ?? 0)
        }
        return snapshot
    }

    /// -1 is Transmission's "unknown".
    static func count(_ value: JSONValue?) -> Int? { value?.int.flatMap { $0 >= 0 ? $0 : nil } }

    static func bitfield(_ base64: String?, count: Int) -> Bitfield {
        guard let base64, let data = Data(base64Encoded: base64), let bits = Bitfield(bytes: Array(data), count: count) else {
            return Bitfield(count: count)
        }
        return bits
    }

    /// For a daemon that is not Shoal (transmission-daemon): Transmission's status numbers.
    static func activityFromStatus(_ row: JSONValue) -> TorrentActivity {
        if row["error"]?.int == 3 { return .error }
        switch row["status"]?.int {
        case 1, 2: return .checking
        case 3, 4: return .downloading
        case 5, 6: return .seeding
        default: return .paused
        }
    }
}
