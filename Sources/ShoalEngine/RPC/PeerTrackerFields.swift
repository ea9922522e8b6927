import Foundation
import ShoalCore

/// A connected peer as `torrent-get`'s `peers` entries.
enum PeerFields {
    static func object(_ peer: PeerSnapshot) -> JSONValue {
        let address = PeerAddress(parsing: peer.address)
        let flags = peer.flags
        return [
            "address": .string(address?.host ?? peer.address),
            "port": .int(address?.port ?? 0),
            "clientName": .string(peer.client),
            "flagStr": .string(flags),
            "progress": .number(peer.progress),
            "rateToClient": .int(Int64(peer.downloadRate)),
            "rateToPeer": .int(Int64(peer.uploadRate)),
            "clientIsChoked": .bool(!flags.contains("D") && !flags.contains("?")),
            "clientIsInterested": .bool(flags.contains("D") || flags.contains("d")),
            "peerIsChoked": .bool(!flags.contains("U") && !flags.contains("K")),
            "peerIsInterested": .bool(flags.contains("U") || flags.contains("u")),
            "isDownloadingFrom": .bool(flags.contains("D")),
            "isUploadingTo": .bool(flags.contains("U")),
            "isEncrypted": .bool(flags.contains("E")),
            "isIncoming": .bool(flags.contains("I")),
            "isUTP": false,
        ]
    }
}

/// A torrent's trackers as `trackers` and `trackerStats` entries.
enum TrackerFields {
    static func tracker(_ tracker: TrackerSnapshot, index: Int) -> JSONValue {
        ["announce": .string(tracker.url), "id": .int(index), "scrape": .string(scrapeURL(tracker.url)), "tier": .int(tracker.tier),
         "sitename": .string(siteName(tracker.url))]
    }

    static func stats(_ tracker: TrackerSnapshot, index: Int, context: TorrentFields.Context) -> JSONValue {
        let announced = tracker.lastAnnounce != nil
        return [
            "announce": .string(tracker.url),
            "scrape": .string(scrapeURL(tracker.url)),
            "host": .string(host(tracker.url)),
            "sitename": .string(siteName(tracker.url)),
            "id": .int(index),
            "tier": .int(tracker.tier),
            "isBackup": false,
            // 0 inactive, 1 waiting, 2 queued, 3 active.
            "announceState": .int(tracker.status == "announcing" ? 3 : 1),
            "scrapeState": 1,
            "hasAnnounced": .bool(announced),
            "hasScraped": .bool(tracker.lastScrape != nil),
            "lastAnnounceResult": .string(tracker.error ?? (announced ? "Success" : "")),
            "lastAnnounceSucceeded": .bool(announced && tracker.error == nil),
            "lastAnnounceTimedOut": .bool(tracker.error?.contains("timed out") ?? false),
            "lastAnnounceTime": TorrentFields.seconds(tracker.lastAnnounce, context: context),
            "lastAnnounceStartTime": TorrentFields.seconds(tracker.lastAnnounce, context: context),
            "lastAnnouncePeerCount": .int(tracker.peersReturned),
            "nextAnnounceTime": TorrentFields.seconds(tracker.nextAnnounce, context: context),
            "lastScrapeResult": "",
            "lastScrapeSucceeded": .bool(tracker.lastScrape != nil),
            "lastScrapeTimedOut": false,
            "lastScrapeTime": TorrentFields.seconds(tracker.lastScrape, context: context),
            "lastScrapeStartTime": TorrentFields.seconds(tracker.lastScrape, context: context),
            "nextScrapeTime": 0,
            "seederCount": .int(tracker.seeders ?? -1),
            "leecherCount": .int(tracker.leechers ?? -1),
            "downloadCount": .int(tracker.completed ?? -1),
        ]
    }

    /// BEP 48: `…/announce…` becomes `…/scrape…`; other URLs have no scrape address.
    static func scrapeURL(_ announce: String) -> String {
        guard let slash = announce.lastIndex(of: "/") else { return "" }
        let last = announce[announce.index(after: slash)...]
        guard last.hasPrefix("announce") else { return "" }
        return announce[...slash] + "scrape" + last.dropFirst("announce".count)
    }

    static func host(_ url: String) -> String {
        guard let components = URLComponents(string: url), let host = components.host else { return url }
        return components.port.map { "\(host):\($0)" } ?? host
    }

    /// The registrable part of the host, roughly: "tracker.example.org" -> "example".
    static func siteName(_ url: String) -> String {
        guard let host = URLComponents(string: url)?.host else { return "" }
        let labels = host.split(separator: ".")
        if labels.count >= 2, !host.allSatisfy({ $0.isNumber || $0 == "." }) { return String(labels[labels.count - 2]) }
        return host
    }
}

/// Fields only `shoal attach` asks for: what the interface draws that Transmission has no name
/// for. `shoal` is light (asked for every torrent), `shoal-detail` is the selected torrent's.
enum ShoalExtension {
    static func object(_ t: TorrentSnapshot) -> JSONValue {
        [
            "activity": .string(t.activity.rawValue),
            "wantedSize": .int(t.wantedSize),
            "haveSize": .int(t.haveSize),
            "path": .string(t.downloadDirectory),
            "hashFailures": .int(t.hashFailures),
            "bannedPeers": .int(t.bannedPeers),
            "piecesHashedOnCheck": .int(t.piecesHashedOnCheck),
            "closeReasons": .object(Dictionary(uniqueKeysWithValues: t.closeReasons.counts.map { ($0.key.rawValue, JSONValue.int($0.value)) })),
            "move": t.move.map { ["destination": .string($0.destination), "fraction": .number($0.fraction)] } ?? .null,
        ]
    }

    static func detail(_ t: TorrentSnapshot) -> JSONValue {
        [
            "piecesInProgress": .array(t.piecesInProgress.map { .int($0) }),
            "availability": .array(t.availability.map { .int($0) }),
            "peerPieces": .array(t.peers.map { .string(Data($0.pieces.bytes).base64EncodedString()) }),
            "filePriorities": .array(t.files.map { .int($0.priority.rawValue) }),
            "trackerStatus": .array(t.trackers.map { .string($0.status) }),
            // To the byte (Transmission's own fields are in kB/s).
            "uploadLimit": .int(t.details.uploadLimit),
            "downloadLimit": .int(t.details.downloadLimit),
            "seedRatio": Self.seedRatio(t.details.seedRatio),
        ]
    }

    static func seedRatio(_ goal: SeedRatioGoal) -> JSONValue {
        switch goal {
        case .session: "session"
        case .unlimited: "unlimited"
        case .own(let ratio): .number(ratio)
        }
    }

    static func seedRatio(_ value: JSONValue?) -> SeedRatioGoal {
        if let ratio = value?.double { return .own(ratio) }
        return value?.string == "unlimited" ? .unlimited : .session
    }
}
