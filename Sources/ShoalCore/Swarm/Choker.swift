/// Tit-for-tat choking (BEP 3 practice): every round, unchoke the peers that give us the best
/// download rate (when seeding: that take our uploads fastest), plus one optimistic unchoke that
/// rotates every 30 s so new peers get a chance to prove themselves. Snubbed peers (no data for a
/// minute while we wait on them) lose their regular slot. Pure: the caller supplies the time.
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
    public private(set) var optimistic: PeerKey?
    private var optimisticSince: ContinuousClock.Instant?

    public init(regularSlots: Int = 4) {
        self.regularSlots = regularSlots
    }

    /// The set of peers to have unchoked after this round.
    public mutating func round(_ samples: [Sample], seeding: Bool, now: ContinuousClock.Instant,
                               using rng: inout some RandomNumberGenerator) -> Set<PeerKey> {
        let candidates = samples.filter { $0.isInterested }
        let ranked = candidates.filter { !$0.isSnubbed }.sorted {
            let a = seeding ? $0.uploadRate : $0.downloadRate
            let b = seeding ? $1.uploadRate : $1.downloadRate
            return a != b ? a > b : $0.peer < $1.peer
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
}
