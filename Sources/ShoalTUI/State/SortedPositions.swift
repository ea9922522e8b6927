import ShoalEngine

/// The list's rows in order: positions in a snapshot's `TorrentList`, those the view and filter
/// let through, sorted by a key (equal keys in the session's order). Kept from snapshot to
/// snapshot and brought up to date from the chunks that changed alone: with 100,000 torrents,
/// sorting every row on every snapshot was most of what an idle interface cost.
protocol ListOrdering: Sendable {
    var order: [Int32] { get }
    /// Brings the order from `old` to `new`, which must hold the same torrents in the same
    /// places; false when they do not (a torrent added, removed or moved), and nothing changed.
    mutating func update(from old: TorrentList, to new: TorrentList) -> Bool
}

struct SortedPositions<Key: Comparable & Sendable>: ListOrdering {
    /// Each position's key; nil: not shown.
    private(set) var keys: [Key?]
    private(set) var order: [Int32]
    /// Greater keys first; `reversed` turns the whole order around, equal keys too.
    let descending: Bool
    let reversed: Bool
    let key: @Sendable (UnsafePointer<TorrentSnapshot>) -> Key?

    init(_ list: TorrentList, descending: Bool, reversed: Bool, key: @escaping @Sendable (UnsafePointer<TorrentSnapshot>) -> Key?) {
        self.descending = descending
        self.reversed = reversed
        self.key = key
        var keys: [Key?] = []
        keys.reserveCapacity(list.count)
        list.forEachInPlace { _, torrent in keys.append(key(torrent)) }
        self.keys = keys
        order = []
        rebuild()
    }

    /// Whether the row at position `a` with key `ka` comes before the one at `b`.
    private func precedes(_ ka: Key, _ a: Int32, _ kb: Key, _ b: Int32) -> Bool {
        reversed ? naturally(kb, b, ka, a) : naturally(ka, a, kb, b)
    }

    private func naturally(_ ka: Key, _ a: Int32, _ kb: Key, _ b: Int32) -> Bool {
        ka != kb ? (descending ? ka > kb : ka < kb) : a < b
    }

    private mutating func rebuild() {
        // Sorted as (key, position) pairs side by side: looking each key up through its
        // position was most of the time of a sort of 100,000.
        var pairs: [(key: Key, position: Int32)] = []
        pairs.reserveCapacity(keys.count)
        for (position, key) in keys.enumerated() {
            if let key { pairs.append((key, Int32(position))) }
        }
        pairs.sort { a, b in precedes(a.key, a.position, b.key, b.position) }
        order = pairs.map(\.position)
    }

    /// Where a row with this key at this position is, or would go.
    private func slot(_ k: Key, _ position: Int32) -> Int {
        var low = 0, high = order.count
        while low < high {
            let middle = (low + high) / 2
            let other = order[middle]
            if precedes(keys[Int(other)]!, other, k, position) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    mutating func update(from old: TorrentList, to new: TorrentList) -> Bool {
        guard old.count == new.count, old.chunkCount == new.chunkCount else { return false }
        var changed: [(position: Int, key: Key?)] = []
        for chunk in 0..<new.chunkCount where !new.sharesChunk(chunk, with: old) {
            for position in new.positions(ofChunk: chunk) {
                guard new[position].id == old[position].id else { return false }
                let k = withUnsafePointer(to: new[position]) { key($0) }
                if k != keys[position] { changed.append((position, k)) }
            }
        }
        // Many changed: one sort of everything is cheaper than moving each.
        if changed.count > 64 {
            for (position, k) in changed { keys[position] = k }
            rebuild()
            return true
        }
        for (position, k) in changed {
            let p = Int32(position)
            if let was = keys[position] { order.remove(at: slot(was, p)) }
            keys[position] = k
            if let k { order.insert(p, at: slot(k, p)) }
        }
        return true
    }
}

extension SortOrder {
    /// The order of `list`'s rows for this sort, with only the torrents `shown` lets through
    /// (nil: all).
    func ordering(_ list: TorrentList, reversed: Bool, shown: (@Sendable (TorrentSnapshot) -> Bool)?) -> any ListOrdering {
        // A NaN (a daemon's odd figure) compares with nothing and would break the order's search.
        @Sendable func ordered(_ value: Double) -> Double { value.isNaN ? 0 : value }
        func by<Key: Comparable & Sendable>(descending: Bool, _ key: @escaping @Sendable (UnsafePointer<TorrentSnapshot>) -> Key) -> any ListOrdering {
            guard let shown else { return SortedPositions(list, descending: descending, reversed: reversed) { key($0) } }
            return SortedPositions(list, descending: descending, reversed: reversed) { shown($0.pointee) ? key($0) : nil }
        }
        return switch self {
        case .added: by(descending: false) { _ in 0 }
        case .name: by(descending: false) { $0.pointee.name.lowercased() }
        case .size: by(descending: true) { $0.pointee.totalSize }
        case .progress: by(descending: true) { ordered($0.pointee.progress) }
        case .state: by(descending: false) { $0.pointee.activity.rawValue }
        case .downloadRate: by(descending: true) { ordered($0.pointee.downloadRate) }
        case .uploadRate: by(descending: true) { ordered($0.pointee.uploadRate) }
        case .eta: by(descending: false) { $0.pointee.eta ?? .max }
        case .ratio: by(descending: true) { ordered($0.pointee.ratio) }
        case .peers: by(descending: true) { $0.pointee.peers.count }
        }
    }
}
