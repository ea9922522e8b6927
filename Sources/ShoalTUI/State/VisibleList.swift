import ShoalEngine
import Synchronization

/// The list as last filtered and sorted, handed out again while the snapshot's torrents and the
/// list's settings are the same: a frame asked for it three to five times (to keep the
/// selection, to draw, to act on a key), and each time sorted every torrent again — with
/// 100,000 torrents, most of a frame's time.
final class VisibleListCache: Sendable {
    struct Settings: Equatable {
        var view: TorrentView
        var filter: String
        var sort: SortOrder
        var reversed: Bool
    }

    private struct Kept {
        /// Held, so its storage cannot be freed and another snapshot's land at its address.
        var torrents: [TorrentSnapshot]
        var settings: Settings
        var list: [TorrentSnapshot]
    }

    private let kept = Mutex<Kept?>(nil)

    func list(_ torrents: [TorrentSnapshot], _ settings: Settings, make: () -> [TorrentSnapshot]) -> [TorrentSnapshot] {
        if let hit = kept.withLock({ kept -> [TorrentSnapshot]? in
            guard let kept, kept.settings == settings, Self.same(kept.torrents, torrents) else { return nil }
            return kept.list
        }) {
            return hit
        }
        let list = make()
        kept.withLock { $0 = Kept(torrents: torrents, settings: settings, list: list) }
        return list
    }

    /// The same array storage (a new snapshot always comes in a new one).
    private static func same(_ a: [TorrentSnapshot], _ b: [TorrentSnapshot]) -> Bool {
        a.count == b.count && a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in x.baseAddress == y.baseAddress } }
    }
}
