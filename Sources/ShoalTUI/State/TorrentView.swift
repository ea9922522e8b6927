import ShoalCore
import ShoalEngine

/// Which torrents the list shows, by state or label (`f` and `F` step through them).
public enum TorrentView: Sendable, Hashable, Codable {
    case all, downloading, seeding, queued, paused, checking, error
    case label(String)

    public var title: String {
        switch self {
        case .all: "all"
        case .downloading: "downloading"
        case .seeding: "seeding"
        case .queued: "queued"
        case .paused: "paused"
        case .checking: "checking"
        case .error: "error"
        case .label(let name): "label \(name)"
        }
    }

    public func contains(_ torrent: TorrentSnapshot) -> Bool {
        switch self {
        case .all: true
        case .downloading: torrent.activity == .downloading || torrent.activity == .metadata
        case .seeding: torrent.activity == .seeding
        case .queued: torrent.activity == .queued
        case .paused: torrent.activity == .paused || torrent.activity == .finished
        case .checking: torrent.activity == .checking
        case .error: torrent.activity == .error || torrent.error != nil
        case .label(let name): torrent.details.labels.contains(name)
        }
    }

    /// The states, then every label some torrent has, in order.
    public static func available(_ snapshot: SessionSnapshot) -> [TorrentView] {
        let labels = Set(snapshot.torrents.flatMap(\.details.labels)).sorted()
        return [.all, .downloading, .seeding, .queued, .paused, .checking, .error] + labels.map(TorrentView.label)
    }
}
