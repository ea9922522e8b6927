import ShoalCore
import Synchronization

/// The state both transports share: the registry, connection ids and counters, behind one lock.
public final class TrackerCore: Sendable {
    struct State {
        var registry: TrackerRegistry
        var rng = SplitMix64()
        let started = ContinuousClock.now
    }

    private let state: Mutex<State>
    public let connectionIDs = ConnectionIDs()

    public init(interval: Int, whitelist: Set<InfoHash>?) {
        state = Mutex(State(registry: TrackerRegistry(interval: interval, whitelist: whitelist)))
    }

    public func announce(_ request: TrackerAnnounce) throws(TrackerFailure) -> TrackerRegistry.Reply {
        try state.withLock { state throws(TrackerFailure) in
            try state.registry.announce(request, now: .now, using: &state.rng)
        }
    }

    /// Counts for the given torrents (all known ones when `hashes` is empty).
    public func scrape(_ hashes: [InfoHash]) -> [(InfoHash, TrackerRegistry.Counts)] {
        state.withLock { state in
            (hashes.isEmpty ? state.registry.hashes : hashes).map { ($0, state.registry.counts(for: $0)) }
        }
    }

    public struct Stats: Sendable {
        public let torrents: Int
        public let peers: Int
        public let announces: Int
        public let announcesPerSecond: Double
    }

    public var stats: Stats {
        state.withLock { state in
            let seconds = max(1, Double((ContinuousClock.now - state.started).components.seconds))
            return Stats(torrents: state.registry.torrentCount, peers: state.registry.peerCount,
                         announces: state.registry.announceCount,
                         announcesPerSecond: Double(state.registry.announceCount) / seconds)
        }
    }
}
