import ShoalCore
import ShoalEngine

/// Download and upload rates over the last few minutes, one sample a second, per torrent and
/// for the whole session (the Rates tab's graph).
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

        public init() {}

        mutating func append(down d: Double, up u: Double) {
            allDown.append(d)
            allUp.append(u)
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
        for torrent in snapshot.torrents {
            torrents[torrent.id, default: Series()].append(down: torrent.downloadRate, up: torrent.uploadRate)
        }
        // Removed torrents' series go (only then is the dictionary rebuilt).
        if torrents.count > snapshot.torrents.count {
            let present = Set(snapshot.torrents.map(\.id))
            torrents = torrents.filter { present.contains($0.key) }
        }
    }
}
