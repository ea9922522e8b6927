import ShoalCore
import ShoalEngine
import Synchronization

/// The torrents the list shows, in the order it shows them: the snapshot's list itself when
/// nothing is filtered or sorted, else positions in it. Nothing is copied out of the snapshot.
public struct VisibleRows: RandomAccessCollection, Sendable {
    let list: TorrentList
    /// nil: every torrent in the session's order.
    let order: [Int32]?

    public var startIndex: Int { 0 }
    public var endIndex: Int { order?.count ?? list.count }

    public subscript(index: Int) -> TorrentSnapshot {
        _read { yield list[order.map { Int($0[index]) } ?? index] }
    }

    /// Where the torrent with this id is in the rows, nil when it is not shown.
    public func index(of id: InfoHash?) -> Int? {
        guard let id, let position = list.position(of: id) else { return nil }
        guard let order else { return position }
        let wanted = Int32(position)
        return order.firstIndex(of: wanted)
    }
}

/// The list as last filtered and sorted, handed out again while the snapshot's torrents and the
/// list's settings are the same (a frame asked for it three to five times), and brought up to
/// date from the last one when only some torrents changed (see `SortedPositions`).
final class VisibleListCache: Sendable {
    struct Settings: Equatable {
        var view: TorrentView
        var filter: String
        var sort: SortOrder
        var reversed: Bool
    }

    private struct Kept {
        var list: TorrentList
        var settings: Settings
        var ordering: (any ListOrdering)?
        var rows: VisibleRows
    }

    private let kept = Mutex<Kept?>(nil)

    func rows(_ list: TorrentList, _ settings: Settings) -> VisibleRows {
        kept.withLock { kept in
            if var last = kept, last.settings == settings {
                if last.list.sameTorrents(as: list) { return last.rows }
                if last.ordering == nil {
                    last.list = list
                    last.rows = VisibleRows(list: list, order: nil)
                    kept = last
                    return last.rows
                }
                if last.ordering!.update(from: last.list, to: list) {
                    last.list = list
                    last.rows = VisibleRows(list: list, order: last.ordering!.order)
                    kept = last
                    return last.rows
                }
            }
            let made = Self.make(list, settings)
            kept = made
            return made.rows
        }
    }

    private static func make(_ list: TorrentList, _ settings: Settings) -> Kept {
        // Unfiltered in the session's order: the snapshot's own list.
        if settings.view == .all, settings.filter.isEmpty, settings.sort == .added, !settings.reversed {
            return Kept(list: list, settings: settings, ordering: nil, rows: VisibleRows(list: list, order: nil))
        }
        let needle = settings.filter.lowercased()
        let view = settings.view
        var shown: (@Sendable (TorrentSnapshot) -> Bool)?
        if view != .all || !needle.isEmpty {
            shown = { torrent in view.contains(torrent) && (needle.isEmpty || torrent.name.lowercased().contains(needle)) }
        }
        let ordering = settings.sort.ordering(list, reversed: settings.reversed, shown: shown)
        return Kept(list: list, settings: settings, ordering: ordering, rows: VisibleRows(list: list, order: ordering.order))
    }
}
