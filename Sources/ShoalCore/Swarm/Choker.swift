/// Tit-for-tat choking (BEP 3 practice): every round, unchoke the peers that give us the best
/// download rate, plus one optimistic unchoke that rotates every 30 s so new peers get a chance
/// to prove themselves. Snubbed peers (no data for a minute while we wait on them) lose their
/// regular slot.
///
/// Seeding there is nothing to reciprocate, and ranking by how fast peers take our uploads
/// would keep the same few forever: the slots go round robin instead. A peer keeps its slot for
/// one round, then gives way to the interested peers that have waited longest. With an
/// unlimited upload the caller gives every interested peer a slot (`seedSlots`), and the
/// connections share the bandwidth. Pure: the caller supplies the time.
public struct Choker: Sendable {
    public typealias PeerKey = Int

    public struct Sample: Sendable {
        public var peer: PeerKey
        /// The peer wants our data.
        public var isInterested: Bool
        /// Bytes/s the peer sends us.
        public var downloadRate: Double
        /// Bytes/s we send the peer.
        public var uploadRate: Double
        public var isSnubbed: Bool

        public init(peer: PeerKey, isInterested: Bool, downloadRate: Double, uploadRate: Double, isSnubbed: Bool = false) {
            self.peer = peer
            self.isInterested = isInterested
            self.downloadRate = downloadRate
            self.uploadRate = uploadRate
            self.isSnubbed = isSnubbed
        }
    }

    public static let roundInterval = Duration.seconds(10)
    public static let optimisticInterval = Duration.seconds(30)

    public var regularSlots: Int
    /// Peers unchoked at once while seeding.
    public var seedSlots: Int
    public private(set) var optimistic: PeerKey?
    private var optimisticSince: ContinuousClock.Instant?
    /// Seeding: when each unchoked peer got its slot, numbered so turns end in the order they began.
    private var unchokedSince: [PeerKey: (at: ContinuousClock.Instant, turn: Int)] = [:]
    private var turns = 0
    /// Seeding: interested peers waiting for a slot, next first.
    private var queue: [PeerKey] = []

    public init(regularSlots: Int = 4) {
        self.regularSlots = regularSlots
        self.seedSlots = regularSlots + 1
    }

    /// The set of peers to have unchoked after this round.
    public mutating func round(_ samples: [Sample], seeding: Bool, now: ContinuousClock.Instant,
                               using rng: inout some RandomNumberGenerator) -> Set<PeerKey> {
        let candidates = samples.filter { $0.isInterested }
        if seeding { return roundRobin(candidates.map(\.peer), now: now) }
        unchokedSince = [:]
        let ranked = candidates.filter { !$0.isSnubbed }.sorted {
            $0.downloadRate != $1.downloadRate ? $0.downloadRate > $1.downloadRate : $0.peer < $1.peer
        }
        var unchoked = Set(ranked.prefix(regularSlots).map(\.peer))

        let stillThere = optimistic.map { key in candidates.contains { $0.peer == key } } ?? false
        let due = optimisticSince.map { now - $0 >= Self.optimisticInterval } ?? true
        if !stillThere || due || unchoked.contains(optimistic!) {
            let pool = candidates.filter { !unchoked.contains($0.peer) && $0.peer != optimistic }
            let fallback = candidates.filter { !unchoked.contains($0.peer) }
            if let pick = (pool.isEmpty ? fallback : pool).randomElement(using: &rng) {
                optimistic = pick.peer
                optimisticSince = now
            } else {
                optimistic = nil
                optimisticSince = nil
            }
        }
        if let optimistic { unchoked.insert(optimistic) }
        return unchoked
    }

    private mutating func roundRobin(_ candidates: [PeerKey], now: ContinuousClock.Instant) -> Set<PeerKey> {
        optimistic = nil
        optimisticSince = nil
        let present = Set(candidates)
        unchokedSince = unchokedSince.filter { present.contains($0.key) }
        queue.removeAll { !present.contains($0) }
        // Newcomers join the back of the queue.
        let known = Set(queue).union(unchokedSince.keys)
        queue += candidates.filter { !known.contains($0) }.sorted()
        // A full round in a slot is a turn: it ends, and the peer goes to the back of the queue.
        if candidates.count > seedSlots {
            let ended = unchokedSince.filter { now - $0.value.at >= Self.roundInterval }.sorted { $0.value.turn < $1.value.turn }
            for (peer, _) in ended { unchokedSince[peer] = nil }
            queue += ended.map(\.key)
        }
        while unchokedSince.count < seedSlots, !queue.isEmpty {
            unchokedSince[queue.removeFirst()] = (now, turns)
            turns += 1
        }
        return Set(unchokedSince.keys)
    }
}
