import ShoalCore

/// The session's torrents in the session's order, held in chunks of `chunkSize` shared by
/// reference. A refresh builds again only the chunks holding a torrent whose snapshot changed and
/// hands the others on as the same objects, so with 100,000 torrents of which a few move data, a
/// snapshot costs what changed (an array of 100,000 snapshots was copied, retained and released
/// whole twice a second), and a front end can tell what changed by asking which chunks are new
/// (`sharesChunk`).
public struct TorrentList: RandomAccessCollection, Sendable, ExpressibleByArrayLiteral {
    public static let chunkSize = 256

    @usableFromInline
    final class Chunk: Sendable {
        @usableFromInline let torrents: [TorrentSnapshot]
        /// What the session built it from, compared by identity at the next refresh (nil for a
        /// list made from an array).
        let sources: [SharedSnapshot]?
        let downloadRate: Double
        let uploadRate: Double
        /// Offsets of the torrents moving data (a nonzero rate).
        let moving: [Int]
        /// How many are in each activity.
        let activities: [TorrentActivity: Int]

        init(_ torrents: [TorrentSnapshot], sources: [SharedSnapshot]?) {
            self.torrents = torrents
            self.sources = sources
            var down = 0.0, up = 0.0
            var moving: [Int] = []
            var activities: [TorrentActivity: Int] = [:]
            for (offset, torrent) in torrents.enumerated() {
                down += torrent.downloadRate
                up += torrent.uploadRate
                if torrent.downloadRate > 0 || torrent.uploadRate > 0 { moving.append(offset) }
                activities[torrent.activity, default: 0] += 1
            }
            downloadRate = down
            uploadRate = up
            self.moving = moving
            self.activities = activities
        }
    }

    /// Every chunk full but the last, so a position is found by division.
    @usableFromInline let chunks: [Chunk]
    public let count: Int

    public init(_ torrents: [TorrentSnapshot]) {
        chunks = stride(from: 0, to: torrents.count, by: Self.chunkSize).map { start in
            Chunk(Array(torrents[start..<Swift.min(start + Self.chunkSize, torrents.count)]), sources: nil)
        }
        count = torrents.count
    }

    public init(arrayLiteral torrents: TorrentSnapshot...) { self.init(torrents) }

    /// The session's list: chunks of `previous` whose torrents come from the same shared
    /// snapshots, in the same places, are taken over as they are.
    init(_ shared: [SharedSnapshot], reusing previous: TorrentList) {
        var chunks: [Chunk] = []
        chunks.reserveCapacity((shared.count + Self.chunkSize - 1) / Self.chunkSize)
        for (index, start) in stride(from: 0, to: shared.count, by: Self.chunkSize).enumerated() {
            let sources = Array(shared[start..<Swift.min(start + Self.chunkSize, shared.count)])
            if index < previous.chunks.count, let old = previous.chunks[index].sources, old.count == sources.count,
                zip(old, sources).allSatisfy({ $0 === $1 })
            {
                chunks.append(previous.chunks[index])
            } else {
                chunks.append(Chunk(sources.map(\.snapshot), sources: sources))
            }
        }
        self.chunks = chunks
        count = shared.count
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    @inlinable
    public subscript(position: Int) -> TorrentSnapshot {
        // Read in place: a copy of a snapshot retains a dozen strings and arrays.
        _read { yield chunks[position / Self.chunkSize].torrents[position % Self.chunkSize] }
    }

    /// Walks the chunks in turn (a position's chunk is not found by division for each).
    public struct Iterator: IteratorProtocol {
        @usableFromInline let chunks: [Chunk]
        @usableFromInline var chunk = 0
        @usableFromInline var offset = 0

        @usableFromInline init(chunks: [Chunk]) { self.chunks = chunks }

        @inlinable
        public mutating func next() -> TorrentSnapshot? {
            while chunk < chunks.count {
                let torrents = chunks[chunk].torrents
                if offset < torrents.count {
                    offset += 1
                    return torrents[offset - 1]
                }
                chunk += 1
                offset = 0
            }
            return nil
        }
    }

    @inlinable
    public func makeIterator() -> Iterator { Iterator(chunks: chunks) }

    /// Hands each torrent's place in memory to `body` in order, with its position: the
    /// iterator and a closure taking a snapshot were both handed copies, and a copy retains a
    /// dozen strings and arrays (most of a sort of 100,000). The pointer is valid in `body` only.
    public func forEachInPlace(_ body: (Int, UnsafePointer<TorrentSnapshot>) throws -> Void) rethrows {
        for (index, chunk) in chunks.enumerated() {
            let base = index * Self.chunkSize
            try chunk.torrents.withUnsafeBufferPointer { torrents in
                guard let start = torrents.baseAddress else { return }
                for offset in torrents.indices { try body(base + offset, start + offset) }
            }
        }
    }

    public var downloadRate: Double { chunks.reduce(0) { $0 + $1.downloadRate } }
    public var uploadRate: Double { chunks.reduce(0) { $0 + $1.uploadRate } }
    /// How many torrents are in each activity, from the chunks' own counts: a summary of
    /// 100,000 torrents each second read every one of them.
    public var activityCounts: [TorrentActivity: Int] {
        chunks.reduce(into: [:]) { counts, chunk in counts.merge(chunk.activities, uniquingKeysWith: +) }
    }

    /// Positions of the torrents moving data, found without looking at the others.
    public var moving: [Int] {
        chunks.enumerated().flatMap { index, chunk in chunk.moving.map { index * Self.chunkSize + $0 } }
    }

    public var chunkCount: Int { chunks.count }

    /// The positions chunk `index` holds.
    public func positions(ofChunk index: Int) -> Range<Int> {
        index * Self.chunkSize..<Swift.min((index + 1) * Self.chunkSize, count)
    }

    /// Whether chunk `index` is the same object in both lists: its torrents are unchanged.
    public func sharesChunk(_ index: Int, with other: TorrentList) -> Bool {
        index < chunks.count && index < other.chunks.count && chunks[index] === other.chunks[index]
    }

    /// Whether both lists are made of the same chunks: nothing in them changed.
    public func sameTorrents(as other: TorrentList) -> Bool {
        count == other.count && chunks.count == other.chunks.count && zip(chunks, other.chunks).allSatisfy { $0 === $1 }
    }

    /// Where the torrent with this id is, comparing ids only.
    public func position(of id: InfoHash) -> Int? {
        for (index, chunk) in chunks.enumerated() {
            if let offset = chunk.torrents.firstIndex(where: { $0.id == id }) { return index * Self.chunkSize + offset }
        }
        return nil
    }
}
