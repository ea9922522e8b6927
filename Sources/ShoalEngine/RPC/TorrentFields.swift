import Foundation
import ShoalCore

/// `torrent-get`'s fields: a torrent snapshot as Transmission's RPC names and encodes it.
/// Unknown names are skipped, as Transmission does, so any remote's field list is accepted.
struct TorrentFields {
    /// What the snapshot alone does not say.
    struct Context {
        var now = Date()
        var clockNow = ContinuousClock.now
        /// The session's ratio goal, for torrents that follow it.
        var sessionSeedRatio: Double?
        /// The session's `peer-limit-per-torrent`, for torrents without their own.
        var peerLimitPerTorrent = EngineConfig.Defaults.maxPeersPerTorrent
        var queuePositions: [InfoHash: Int] = [:]
    }

    /// Transmission's `tr_torrent_activity`.
    enum Status: Int {
        case stopped = 0, checkWait = 1, checking = 2, downloadWait = 3, downloading = 4, seedWait = 5, seeding = 6
    }

    static func status(_ torrent: TorrentSnapshot) -> Status {
        switch torrent.activity {
        case .paused, .finished, .error: return .stopped
        case .checking: return .checking
        case .downloading, .metadata: return .downloading
        case .seeding: return .seeding
        case .queued: return torrent.haveSize >= torrent.wantedSize ? .seedWait : .downloadWait
        }
    }

    /// The fields Transmission's own remotes use most, for a request that names none.
    static let defaultFields = ["id", "name", "status", "percentDone", "rateDownload", "rateUpload", "totalSize", "hashString"]

    /// The fields asked for that Shoal knows, each with its member name as JSON text (`"name":`),
    /// made once per call rather than once per torrent.
    static func columns(_ names: [String]) -> [(field: TorrentField, key: [UInt8])] {
        names.compactMap { name in
            guard let field = TorrentField(rawValue: name) else { return nil }
            var key: [UInt8] = []
            JSONWriter.writeString(name, into: &key)
            key.append(UInt8(ascii: ":"))
            return (field, key)
        }
    }

    /// A torrent's fields written straight to JSON text, members in the order asked: what
    /// `torrent-get` sends (10,000 rows built as dictionaries and sorted cost as much as the snapshot).
    static func write(_ torrent: TorrentSnapshot, id: Int, columns: [(field: TorrentField, key: [UInt8])], context: Context,
                      into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (index, column) in columns.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += column.key
            JSONWriter.write(value(column.field, torrent, id: id, context: context), into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Unix seconds, 0 for "never" (as Transmission sends).
    static func seconds(_ date: Date?) -> JSONValue { .int(date.map { Int64($0.timeIntervalSince1970) } ?? 0) }

    static func seconds(_ instant: ContinuousClock.Instant?, context: Context) -> JSONValue {
        guard let instant else { return 0 }
        let offset = instant - context.clockNow
        return .int(Int64(context.now.timeIntervalSince1970 + Double(offset.components.seconds)))
    }

    static func ratioLimit(_ torrent: TorrentSnapshot, context: Context) -> Double? {
        switch torrent.details.seedRatio {
        case .session: return context.sessionSeedRatio
        case .own(let ratio): return ratio
        case .unlimited: return nil
        }
    }

    static func errorCode(_ torrent: TorrentSnapshot) -> Int {
        if torrent.error != nil || torrent.activity == .error { return 3 }  // local error
        if torrent.trackers.contains(where: { $0.error != nil }) && !torrent.trackers.contains(where: { $0.error == nil && $0.lastAnnounce != nil }) {
            return torrent.trackers.isEmpty ? 0 : 2  // every tracker failing: tracker error
        }
        return 0
    }

    static func errorString(_ torrent: TorrentSnapshot) -> String {
        if let error = torrent.error { return error }
        if errorCode(torrent) == 2 { return torrent.trackers.compactMap(\.error).first ?? "" }
        return ""
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    static func value(_ field: TorrentField, _ t: TorrentSnapshot, id: Int, context: Context) -> JSONValue {
        let left = max(0, t.wantedSize - t.haveSize)
        switch field {
        case .id: return .int(id)
        case .hashString: return .string(t.id.hex)
        case .name: return .string(t.name)
        case .status: return .int(status(t).rawValue)
        case .error: return .int(errorCode(t))
        case .errorString: return .string(errorString(t))
        case .totalSize: return .int(t.totalSize)
        case .sizeWhenDone: return .int(t.wantedSize)
        case .leftUntilDone: return .int(left)
        case .haveValid: return .int(t.haveSize)
        case .haveUnchecked: return 0
        case .desiredAvailable: return .int(desiredAvailable(t))
        case .percentDone: return .number(t.progress)
        case .percentComplete: return .number(t.totalSize == 0 ? 0 : Double(t.pieces.setCount) / Double(max(1, t.pieces.count)))
        case .metadataPercentComplete: return .number(t.activity == .metadata ? 0 : 1)
        case .recheckProgress:
            return .number(t.activity == .checking ? Double(t.piecesHashedOnCheck) / Double(max(1, t.pieces.count)) : 0)
        case .isFinished: return .bool(t.activity == .finished)
        case .isStalled: return .bool(t.activity == .downloading && t.downloadRate < 1 && !t.peers.isEmpty)
        case .isPrivate: return .bool(t.isPrivate)
        case .rateDownload: return .int(Int64(t.downloadRate))
        case .rateUpload: return .int(Int64(t.uploadRate))
        case .downloadedEver: return .int(t.downloaded)
        case .uploadedEver: return .int(t.uploaded)
        case .corruptEver: return .int(Int64(t.hashFailures) * Int64(t.details.pieceLength))
        case .uploadRatio: return .number(t.downloaded == 0 && t.uploaded == 0 ? -1 : (t.ratio.isFinite ? t.ratio : -2))
        case .eta: return .int(t.eta ?? -1)
        case .etaIdle: return -1
        case .downloadDir: return .string(t.details.location)
        case .addedDate: return seconds(t.details.added)
        case .doneDate: return seconds(t.details.completed)
        case .dateCreated: return .int(t.details.creationDate ?? 0)
        case .startDate: return seconds(t.details.added)
        case .activityDate: return seconds(t.details.lastActivity)
        case .editDate: return 0
        case .manualAnnounceTime: return -1
        case .comment: return .string(t.details.comment ?? "")
        case .creator: return .string(t.details.createdBy ?? "")
        case .source: return ""
        case .group: return ""
        case .magnetLink: return .string(t.details.magnetURI ?? "")
        case .labels: return .array(t.details.labels.map(JSONValue.string))
        case .sequentialDownload: return .bool(t.details.sequential)
        case .pieceCount: return .int(t.pieces.count)
        case .pieceSize: return .int(t.details.pieceLength)
        case .pieces: return .string(Data(t.pieces.bytes).base64EncodedString())
        case .availability:
            return .array(t.availability.indices.map { .int(t.pieces[$0] ? -1 : t.availability[$0]) })
        case .downloadLimit: return .int(t.details.downloadLimit / TransmissionRPC.speedUnit)
        case .downloadLimited: return .bool(t.details.downloadLimit > 0)
        case .uploadLimit: return .int(t.details.uploadLimit / TransmissionRPC.speedUnit)
        case .uploadLimited: return .bool(t.details.uploadLimit > 0)
        case .honorsSessionLimits: return true
        case .bandwidthPriority: return 0
        case .seedRatioLimit: return .number(ratioLimit(t, context: context) ?? context.sessionSeedRatio ?? 2)
        case .seedRatioMode:
            switch t.details.seedRatio {
            case .session: return 0
            case .own: return 1
            case .unlimited: return 2
            }
        case .seedIdleLimit: return 30
        case .seedIdleMode: return 0
        case .queuePosition: return .int(context.queuePositions[t.id] ?? 0)
        case .secondsDownloading, .secondsSeeding: return 0
        case .peerLimit, .maxConnectedPeers: return .int(t.details.peerLimit ?? context.peerLimitPerTorrent)
        case .peersConnected: return .int(t.peers.count)
        case .peersGettingFromUs: return .int(t.peers.filter { $0.flags.contains("U") }.count)
        case .peersSendingToUs: return .int(t.peers.filter { $0.flags.contains("D") }.count)
        case .webseedsSendingToUs: return .int(t.details.webSeeds.filter(\.isSending).count)
        case .webseeds: return .array(t.details.webSeeds.map { .string($0.url) })
        case .peersFrom: return peersFrom(t)
        case .peers: return .array(t.peers.map(PeerFields.object))
        case .files:
            // Transmission names a multi-file torrent's files with the folder they are in.
            let prefix = t.details.isSingleFile ? "" : t.name + "/"
            return .array(t.files.map { ["name": .string(prefix + $0.path), "length": .int($0.size), "bytesCompleted": .int($0.haveSize)] })
        case .fileStats:
            return .array(t.files.map {
                ["bytesCompleted": .int($0.haveSize), "wanted": .bool($0.priority != .skip), "priority": .int(priority($0.priority))]
            })
        case .fileCount: return .int(t.files.count)
        case .wanted: return .array(t.files.map { .int($0.priority == .skip ? 0 : 1) })
        case .priorities: return .array(t.files.map { .int(priority($0.priority)) })
        case .trackers: return .array(t.trackers.enumerated().map { TrackerFields.tracker($1, index: $0) })
        case .trackerList: return .string(trackerList(t))
        case .trackerStats:
            return .array(t.trackers.enumerated().map { TrackerFields.stats($1, index: $0, context: context) })
        case .primaryMimeType: return "application/octet-stream"
        case .torrentFile: return ""
        case .shoal: return ShoalExtension.object(t)
        case .shoalDetail: return ShoalExtension.detail(t)
        }
    }

    /// The fields that read a torrent's files, its pieces' availability or its peers' pieces
    /// (see `Session.snapshot(detailed:)`).
    static let detailFields: Set<TorrentField> = [.files, .fileStats, .fileCount, .wanted, .priorities, .availability,
                                                  .desiredAvailable, .shoalDetail]

    /// Transmission's file priority: -1 low, 0 normal, 1 high (a skipped file is "not wanted").
    static func priority(_ priority: FilePriority) -> Int {
        switch priority {
        case .high: 1
        case .low: -1
        case .normal, .skip: 0
        }
    }

    /// Wanted bytes we lack that some connected peer has.
    static func desiredAvailable(_ t: TorrentSnapshot) -> Int64 {
        guard !t.availability.isEmpty, t.pieces.count > 0, t.wantedSize > t.haveSize else { return 0 }
        let missing = (0..<t.pieces.count).filter { !t.pieces[$0] }
        guard !missing.isEmpty else { return 0 }
        let available = missing.filter { $0 < t.availability.count && t.availability[$0] > 0 }.count
        return Int64(Double(t.wantedSize - t.haveSize) * Double(available) / Double(missing.count))
    }

    /// Tiers separated by blank lines, as `torrent-set`'s `trackerList` takes them.
    static func trackerList(_ t: TorrentSnapshot) -> String {
        var lines: [String] = []
        var lastTier: Int?
        for tracker in t.trackers {
            if let lastTier, lastTier != tracker.tier { lines.append("") }
            lines.append(tracker.url)
            lastTier = tracker.tier
        }
        return lines.joined(separator: "\n")
    }

    static func peersFrom(_ t: TorrentSnapshot) -> JSONValue {
        var counts = ["fromCache": 0, "fromDht": 0, "fromIncoming": 0, "fromLpd": 0, "fromLtep": 0, "fromPex": 0, "fromTracker": 0]
        for peer in t.peers {
            if peer.flags.contains("H") { counts["fromDht"]! += 1 }
            else if peer.flags.contains("X") { counts["fromPex"]! += 1 }
            else if peer.flags.contains("I") { counts["fromIncoming"]! += 1 }
            else { counts["fromTracker"]! += 1 }
        }
        return .object(counts.mapValues { .int($0) })
    }
}
