import ShoalCore
import ShoalEngine

/// How the list is sorted (`s` steps through the columns, `O` reverses).
public enum SortOrder: String, Sendable, CaseIterable, Codable {
    case added, name, size, progress, state, downloadRate = "down rate", uploadRate = "up rate", eta, ratio, peers

    /// Each order's natural direction: names A to Z, the rest biggest first ("added" oldest first).
    func sorted(_ torrents: [TorrentSnapshot], reversed: Bool = false) -> [TorrentSnapshot] {
        let ordered: [TorrentSnapshot]
        switch self {
        case .added: ordered = torrents
        case .name: ordered = torrents.sorted { $0.name.lowercased() < $1.name.lowercased() }
        case .size: ordered = torrents.sorted { $0.totalSize > $1.totalSize }
        case .progress: ordered = torrents.sorted { $0.progress > $1.progress }
        case .state: ordered = torrents.sorted { $0.activity.rawValue < $1.activity.rawValue }
        case .downloadRate: ordered = torrents.sorted { $0.downloadRate > $1.downloadRate }
        case .uploadRate: ordered = torrents.sorted { $0.uploadRate > $1.uploadRate }
        case .eta: ordered = torrents.sorted { ($0.eta ?? .max) < ($1.eta ?? .max) }
        case .ratio: ordered = torrents.sorted { $0.ratio > $1.ratio }
        case .peers: ordered = torrents.sorted { $0.peers.count > $1.peers.count }
        }
        return reversed ? ordered.reversed() : ordered
    }
}
