/// `torrent-get` rows already written, for resting torrents: a paused torrent's row is the same
/// text from call to call, and with 10,000 of them writing it again was most of a call.
///
/// A row is good while its torrent's snapshot is the same object (`SharedSnapshot`, handed out
/// again until the torrent changes) and its column list is the one it was written for. A few
/// column lists are kept at once (a remote's list view and its detail view alternate); a new
/// one takes the least recently used place, and the rows written for the old one no longer match.
struct TorrentRowCache {
    static let placeCount = 2

    private struct Place {
        var columns: [TorrentField]
        /// Bumped when the place is given to another column list.
        var generation: Int
        var lastUsed: Int
    }

    private struct Row {
        var generation: Int
        var source: SharedSnapshot
        var bytes: [UInt8]
    }

    private var places: [Place] = []
    /// By place, then by torrent id (ids are small, dense and never reused).
    private var rows: [[Row?]] = Array(repeating: [], count: TorrentRowCache.placeCount)
    private var uses = 0
    private var generations = 0

    /// Where rows for these columns live, taking a place for them if they have none.
    mutating func place(for columns: [TorrentField]) -> Int {
        uses += 1
        if let found = places.firstIndex(where: { $0.columns == columns }) {
            places[found].lastUsed = uses
            return found
        }
        generations += 1
        let fresh = Place(columns: columns, generation: generations, lastUsed: uses)
        if places.count < Self.placeCount {
            places.append(fresh)
            return places.count - 1
        }
        let oldest = places.indices.min { places[$0].lastUsed < places[$1].lastUsed }!
        places[oldest] = fresh
        rows[oldest] = []
        return oldest
    }

    /// The row kept for this torrent in this place, if it was written from this very snapshot.
    func row(place: Int, id: Int, source: SharedSnapshot) -> [UInt8]? {
        guard id < rows[place].count, let row = rows[place][id], row.source === source,
              row.generation == places[place].generation else { return nil }
        return row.bytes
    }

    mutating func keep(_ bytes: [UInt8], place: Int, id: Int, source: SharedSnapshot) {
        guard id >= 0 else { return }
        if id >= rows[place].count { rows[place] += Array(repeating: nil, count: id + 1 - rows[place].count) }
        rows[place][id] = Row(generation: places[place].generation, source: source, bytes: bytes)
    }

    /// A removed torrent's rows go with it.
    mutating func forget(id: Int) {
        for place in rows.indices where id < rows[place].count { rows[place][id] = nil }
    }

    /// Rows kept, for tests of what stays bounded.
    var count: Int { rows.reduce(0) { $0 + $1.lazy.compactMap { $0 }.count } }
}

extension TorrentField {
    /// Whether the field's value follows from the torrent's snapshot and id alone, so a kept
    /// row stays right: the others read the session's ratio goal or connection limit, the
    /// queue or the clock.
    var followsSnapshot: Bool {
        switch self {
        case .seedRatioLimit, .queuePosition, .trackerStats, .peerLimit, .maxConnectedPeers: false
        default: true
        }
    }
}
