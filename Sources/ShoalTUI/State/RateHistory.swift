import ShoalCore
import ShoalEngine

/// Download and upload rates over the last few minutes, one sample a second, per torrent and
/// for the whole session (the Rates tab's graph).
public struct RateHistory: Sendable {
    public static let capacity = 300

    public struct Series: Sendable {
        public var down: [Double] = []
        public var up: [Double] = []

        mutating func append(down d: Double, up u: Double) {
            down.append(d)
            up.append(u)
            if down.count > RateHistory.capacity {
                down.removeFirst(down.count - RateHistory.capacity)
                up.removeFirst(up.count - RateHistory.capacity)
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
        let present = Set(snapshot.torrents.map(\.id))
        torrents = torrents.filter { present.contains($0.key) }
        for torrent in snapshot.torrents {
            torrents[torrent.id, default: Series()].append(down: torrent.downloadRate, up: torrent.uploadRate)
        }
    }
}
