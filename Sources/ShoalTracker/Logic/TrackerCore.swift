import ShoalCore
import Synchronization

/// The state both transports share: the registry, connection ids and counters, behind one lock.
public final class TrackerCore: Sendable {
    struct State {
        var registry: TrackerRegistry
        var rng = SplitMix64()
        let started = ContinuousClock.now
        var scrapes = 0
        /// Announces and scrapes together, the busiest second.
        var busiest = BusiestSecond()
    }

    private let state: Mutex<State>
    public let connectionIDs = ConnectionIDs()

    public init(interval: Int, whitelist: Set<InfoHash>?) {
        state = Mutex(State(registry: TrackerRegistry(interval: interval, whitelist: whitelist)))
    }

    public func announce(_ request: TrackerAnnounce) throws(TrackerFailure) -> TrackerRegistry.Reply {
        try state.withLock { state throws(TrackerFailure) in
            let now = ContinuousClock.now
            state.busiest.note(elapsed: now - state.started)
            return try state.registry.announce(request, now: now, using: &state.rng)
        }
    }

    /// Counts for the given torrents (all known ones when `hashes` is empty).
    public func scrape(_ hashes: [InfoHash]) -> [(InfoHash, TrackerRegistry.Counts)] {
        state.withLock { state in
            state.scrapes += 1
            state.busiest.note(elapsed: .now - state.started)
            return (hashes.isEmpty ? state.registry.hashes : hashes).map { ($0, state.registry.counts(for: $0)) }
        }
    }

    public struct Stats: Sendable {
        public let torrents: Int
        public let peers: Int
        public let announces: Int
        public let announcesPerSecond: Double
        public let scrapes: Int
        /// The most announces and scrapes in any one second.
        public let busiestSecond: Int
        /// Regular announces sooner than min interval, answered without peers.
        public let throttled: Int
        public let interval: Int
        public let uptime: Duration
    }

    public var stats: Stats {
        state.withLock { state in
            let uptime = ContinuousClock.now - state.started
            let seconds = max(1, Double(uptime.components.seconds))
            return Stats(torrents: state.registry.torrentCount, peers: state.registry.peerCount,
                         announces: state.registry.announceCount,
                         announcesPerSecond: Double(state.registry.announceCount) / seconds,
                         scrapes: state.scrapes, busiestSecond: state.busiest.peak,
                         throttled: state.registry.throttledCount, interval: state.registry.interval, uptime: uptime)
        }
    }

    /// Each client's announces per torrent, with times as seconds since the tracker started.
    public var ledger: [(key: AnnounceLedger.Key, entry: AnnounceLedger.Entry, first: Double, last: Double)] {
        state.withLock { state in
            state.registry.ledger.entries.map { key, entry in
                (key, entry, Self.seconds(entry.first - state.started), Self.seconds(entry.last - state.started))
            }.sorted { $0.first < $1.first }
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
