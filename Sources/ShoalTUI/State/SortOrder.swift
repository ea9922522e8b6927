import ShoalCore
import ShoalEngine

/// How the list is sorted (`s` steps through the columns, `O` reverses).
public enum SortOrder: String, Sendable, CaseIterable, Codable {
    case added, name, size, progress, state, downloadRate = "down rate", uploadRate = "up rate", eta, ratio, peers

    /// Each order's natural direction: names A to Z, the rest biggest first ("added" oldest first);
    /// equals keep their order in the session, so rows do not swap places from frame to frame.
    func sorted(_ torrents: [TorrentSnapshot], reversed: Bool = false) -> [TorrentSnapshot] {
        let order: [Int]
        switch self {
        case .added:
            // The session's order: the array itself, not a copy.
            return reversed ? torrents.reversed() : torrents
        case .name: order = Self.order(torrents.map { $0.name.lowercased() }, descending: false)
        case .size: order = Self.order(torrents.map(\.totalSize), descending: true)
        case .progress: order = Self.order(torrents.map(\.progress), descending: true)
        case .state: order = Self.order(torrents.map(\.activity.rawValue), descending: false)
        case .downloadRate: order = Self.order(torrents.map(\.downloadRate), descending: true)
        case .uploadRate: order = Self.order(torrents.map(\.uploadRate), descending: true)
        case .eta: order = Self.order(torrents.map { $0.eta ?? .max }, descending: false)
        case .ratio: order = Self.order(torrents.map(\.ratio), descending: true)
        case .peers: order = Self.order(torrents.map(\.peers.count), descending: true)
        }
        return (reversed ? order.reversed() : order).map { torrents[$0] }
    }

    /// Positions in sorted order. The keys are taken once (a name was lowercased in every
    /// comparison, two million times for 100,000 torrents) and positions are moved instead of
    /// whole snapshots.
    private static func order<Key: Comparable>(_ keys: [Key], descending: Bool) -> [Int] {
        keys.indices.sorted { a, b in
            if keys[a] == keys[b] { return a < b }
            return descending ? keys[a] > keys[b] : keys[a] < keys[b]
        }
    }
}
