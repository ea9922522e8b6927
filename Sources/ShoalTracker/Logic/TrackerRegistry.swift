import ShoalCore

/// The tracker's memory: which peers are in which swarm. Pure; the transports feed it parsed
/// announces and the time.
///
/// Peers are keyed by peer id within a swarm; one that misses announces for `2 × interval + 60 s`
/// is forgotten; `stopped` removes it at once; the announcing peer is never handed itself.
public struct TrackerRegistry: Sendable {
    public var interval: Int
    public var whitelist: Set<InfoHash>?
    public let maxNumwant = 200
    private var swarms: [InfoHash: TrackerSwarm] = [:]
    public private(set) var announceCount = 0
    /// Who announced what, how often (see `AnnounceLedger`).
    public private(set) var ledger = AnnounceLedger()
    /// Regular announces that came sooner than `minInterval` and got an answer without peers.
    public private(set) var throttledCount = 0
    /// What clients are told as `min interval`: half the interval.
    public var minInterval: Int { max(1, interval / 2) }
    /// Expired peers are swept out of every swarm at most this often (a sweep visits them all).
    static let sweepEvery: Duration = .seconds(10)
    private var lastSweep: ContinuousClock.Instant?

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
        let tooSoon = ledger.record(request, now: now, minInterval: .seconds(minInterval))
        if lastSweep.map({ now - $0 >= Self.sweepEvery }) ?? true { expire(now: now) }
        // A client announcing far more often than it was told gets its counts and no peers:
        // constant work, whatever its rate (events are always taken in).
        if tooSoon, let swarm = swarms[request.infoHash], var peer = swarm.peer(request.peerID) {
            throttledCount += 1
            peer.lastSeen = now
            swarms[request.infoHash]?.update(peer)
            return Reply(peers: [], complete: swarm.seeders, incomplete: swarm.leechers, interval: interval)
        }
        var swarm = swarms.removeValue(forKey: request.infoHash) ?? TrackerSwarm()
        switch request.event {
        case .stopped:
            swarm.remove(request.peerID)
        default:
            if request.event == .completed, swarm.peer(request.peerID).map({ $0.left > 0 }) ?? true { swarm.downloaded += 1 }
            swarm.update(.init(id: request.peerID, address: request.address, left: request.left, lastSeen: now))
        }
        let want = request.event == .stopped ? 0 : min(max(request.numwant, 0), maxNumwant)
        // A seed is sent leechers first, then seeds if there is room: a client fetching a
        // magnet's metadata also says `left=0` (aria2 does) and needs whoever has the torrent.
        let peers = swarm.sample(want, excluding: request.peerID, leechersFirst: request.left == 0, using: &rng)
        let reply = Reply(peers: peers, complete: swarm.seeders, incomplete: swarm.leechers, interval: interval)
        if swarm.count > 0 || swarm.downloaded > 0 { swarms[request.infoHash] = swarm }
        return reply
    }

    public func counts(for hash: InfoHash) -> Counts {
        guard let swarm = swarms[hash] else { return Counts(complete: 0, incomplete: 0, downloaded: 0) }
        return Counts(complete: swarm.seeders, incomplete: swarm.leechers, downloaded: swarm.downloaded)
    }

    public mutating func expire(now: ContinuousClock.Instant) {
        lastSweep = now
        let cutoff = now - peerTimeout
        for hash in Array(swarms.keys) {
            swarms[hash]!.expire(before: cutoff)
            if swarms[hash]!.count == 0 && swarms[hash]!.downloaded == 0 { swarms[hash] = nil }
        }
    }

    public var torrentCount: Int { swarms.count }
    public var peerCount: Int { swarms.values.reduce(0) { $0 + $1.count } }
    public var hashes: [InfoHash] { swarms.keys.sorted() }
}

public struct TrackerFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
