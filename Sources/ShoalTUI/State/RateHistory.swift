import ShoalCore
import ShoalEngine

/// Download and upload rates over the last few minutes, one sample a second, per torrent and
/// for the whole session (the Rates tab's graph). Only torrents that moved data in that time
/// keep a series; the others' is all zeros, made when asked for (`series(for:)`): 100,000
/// torrents kept 600 samples each, half a gigabyte, and were all fed every second.
public struct RateHistory: Sendable {
    public static let capacity = 300

    public struct Series: Sendable {
        // Trimmed a minute at a time, not a sample at a time: shifting 300 samples of each of
        // 1,000 torrents every second was most of an idle interface's work once they were full.
        private var allDown: [Double] = []
        private var allUp: [Double] = []
        /// The last `capacity` samples, oldest first.
        public var down: ArraySlice<Double> { allDown.suffix(RateHistory.capacity) }
        public var up: ArraySlice<Double> { allUp.suffix(RateHistory.capacity) }

        /// Zero samples in a row at the end: a series of nothing else is dropped.
        private(set) var trailingZeros = 0

        public init() {}

        init(zeros count: Int) {
            allDown = [Double](repeating: 0, count: count)
            allUp = allDown
            trailingZeros = count
        }

        mutating func append(down d: Double, up u: Double) {
            allDown.append(d)
            allUp.append(u)
            trailingZeros = d == 0 && u == 0 ? trailingZeros + 1 : 0
            if allDown.count > RateHistory.capacity + 60 {
                allDown.removeFirst(allDown.count - RateHistory.capacity)
                allUp.removeFirst(allUp.count - RateHistory.capacity)
            }
        }
    }

    public private(set) var torrents: [InfoHash: Series] = [:]
    public private(set) var total = Series()
    private var lastSample: ContinuousClock.Instant?

    public mutating func record(_ snapshot: SessionSnapshot, now: ContinuousClock.Instant) {
        if let lastSample, now - lastSample < .seconds(1) { return }
        lastSample = now
        total.append(down: snapshot.downloadRate, up: snapshot.uploadRate)
        var fed = Set<InfoHash>()
        // The list knows which torrents move data without looking at the 100,000 that do not.
        for position in snapshot.torrents.moving {
            let torrent = snapshot.torrents[position]
            // A torrent that starts moving data had zeros until now, as long as the session's.
            torrents[torrent.id, default: Series(zeros: total.down.count - 1)].append(down: torrent.downloadRate, up: torrent.uploadRate)
            fed.insert(torrent.id)
        }
        // The rest kept are idle now (or removed): zeros, until the window holds nothing else.
        for id in Array(torrents.keys) where !fed.contains(id) {
            torrents[id]?.append(down: 0, up: 0)
            if (torrents[id]?.trailingZeros ?? 0) >= Self.capacity { torrents[id] = nil }
        }
    }

    /// A torrent's series; all zeros, as long as the session's, for one that moved nothing.
    public func series(for id: InfoHash) -> Series { torrents[id] ?? Series(zeros: total.down.count) }
}
