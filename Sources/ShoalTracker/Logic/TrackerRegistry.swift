import ShoalCore

/// The tracker's memory: which peers are in which swarm. Pure; the transports feed it parsed
/// announces and the time.
///
/// Peers are keyed by peer id within a swarm; one that misses announces for `2 × interval + 60 s`
/// is forgotten; `stopped` removes it at once; the announcing peer is never handed itself.
public struct TrackerRegistry: Sendable {
    public struct Peer: Sendable {
        public var address: PeerAddress
        public var left: Int64
        public var lastSeen: ContinuousClock.Instant
    }

    struct Swarm: Sendable {
        var peers: [PeerID: Peer] = [:]
        /// Completed downloads seen (`event=completed`), for scrape's `downloaded`.
        var downloaded = 0
    }

    public var interval: Int
    public var whitelist: Set<InfoHash>?
    public let maxNumwant = 200
    private var swarms: [InfoHash: Swarm] = [:]
    public private(set) var announceCount = 0

    public init(interval: Int = 1800, whitelist: Set<InfoHash>? = nil) {
        self.interval = interval
        self.whitelist = whitelist
    }

    public var peerTimeout: Duration { .seconds(interval * 2 + 60) }

    public struct Reply: Sendable, Equatable {
        public var peers: [PeerAddress]
        public var complete: Int
        public var incomplete: Int
        public var interval: Int
    }

    public struct Counts: Sendable, Equatable {
        public var complete: Int
        public var incomplete: Int
        public var downloaded: Int
    }

    public mutating func announce(_ request: TrackerAnnounce, now: ContinuousClock.Instant,
                                  using rng: inout some RandomNumberGenerator) throws(TrackerFailure) -> Reply {
        if let whitelist, !whitelist.contains(request.infoHash) {
            throw TrackerFailure("torrent not registered with this tracker")
        }
        announceCount += 1
        expire(now: now)
        var swarm = swarms[request.infoHash] ?? Swarm()
        switch request.event {
        case .stopped:
            swarm.peers[request.peerID] = nil
        default:
            if request.event == .completed, swarm.peers[request.peerID].map({ $0.left > 0 }) ?? true { swarm.downloaded += 1 }
            swarm.peers[request.peerID] = Peer(address: request.address, left: request.left, lastSeen: now)
        }
        let others = swarm.peers.filter { $0.key != request.peerID }
        let want = request.event == .stopped ? 0 : min(max(request.numwant, 0), maxNumwant)
        // Seeds need no seeds; everyone else gets a random sample.
        var candidates = others.values.filter { request.left > 0 || $0.left > 0 }.map(\.address)
        candidates.shuffle(using: &rng)
        let counts = Self.counts(swarm)
        if swarm.peers.isEmpty && swarm.downloaded == 0 { swarms[request.infoHash] = nil } else { swarms[request.infoHash] = swarm }
        return Reply(peers: Array(candidates.prefix(want)), complete: counts.complete, incomplete: counts.incomplete,
                     interval: interval)
    }

    public func counts(for hash: InfoHash) -> Counts {
        swarms[hash].map(Self.counts) ?? Counts(complete: 0, incomplete: 0, downloaded: 0)
    }

    private static func counts(_ swarm: Swarm) -> Counts {
        let complete = swarm.peers.values.filter { $0.left == 0 }.count
        return Counts(complete: complete, incomplete: swarm.peers.count - complete, downloaded: swarm.downloaded)
    }

    public mutating func expire(now: ContinuousClock.Instant) {
        let timeout = peerTimeout
        for hash in swarms.keys {
            swarms[hash]!.peers = swarms[hash]!.peers.filter { now - $0.value.lastSeen < timeout }
        }
    }

    public var torrentCount: Int { swarms.count }
    public var peerCount: Int { swarms.values.reduce(0) { $0 + $1.peers.count } }
    public var hashes: [InfoHash] { swarms.keys.sorted() }
}

public struct TrackerFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
