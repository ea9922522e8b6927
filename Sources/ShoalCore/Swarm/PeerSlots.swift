/// Who gets a torrent's connection slots. Pure: fed the connected peers and `now`.
///
/// Peers that only handshake and send keep-alives must not hold every slot for ever (fifty such
/// connections once kept an honest leecher out of a seeder for minutes). So:
/// - a fifth of the slots are kept for peers we dial ourselves: incoming connections alone
///   cannot fill the torrent;
/// - when the torrent is full, a newcomer takes the slot of the peer that has been useless
///   longest — neither side interested — once it has been so for `replaceAfter`;
/// - a peer useless for `dropAfter` goes anyway (libtorrent's inactivity timeout).
public struct PeerSlots: Sendable {
    public struct Peer: Sendable {
        public var key: Int
        public var incoming: Bool
        /// The last moment either side was interested (its connection time at first).
        public var usefulAt: ContinuousClock.Instant

        public init(key: Int, incoming: Bool, usefulAt: ContinuousClock.Instant) {
            self.key = key
            self.incoming = incoming
            self.usefulAt = usefulAt
        }
    }

    public enum Admission: Sendable, Equatable {
        case admit
        /// Admit, after closing this peer (useless for long enough).
        case replace(Int)
        case refuse(String)
    }

    public var limit: Int
    public var replaceAfter: Duration
    public var dropAfter: Duration

    public init(limit: Int, replaceAfter: Duration = .seconds(30), dropAfter: Duration = .seconds(600)) {
        self.limit = limit
        self.replaceAfter = replaceAfter
        self.dropAfter = dropAfter
    }

    /// Slots incoming connections may hold: all but a fifth.
    public var incomingLimit: Int { max(1, limit - limit / 5) }

    /// Whether a newly handshaken peer gets a slot.
    public func admit(incoming: Bool, among peers: [Peer], now: ContinuousClock.Instant) -> Admission {
        let incomingCount = peers.filter(\.incoming).count
        let full = peers.count >= limit || (incoming && incomingCount >= incomingLimit)
        guard full else { return .admit }
        // An incoming newcomer replaces an incoming peer when only the incoming share is full.
        let candidates = peers.count >= limit ? peers : peers.filter(\.incoming)
        guard let victim = candidates.filter({ now - $0.usefulAt >= replaceAfter }).min(by: { $0.usefulAt < $1.usefulAt }) else {
            return .refuse(peers.count >= limit
                ? "torrent full (\(limit) peers, none idle long enough to replace)"
                : "incoming slots full (\(incomingLimit) of \(limit); the rest are kept for peers we dial)")
        }
        return .replace(victim.key)
    }

    /// Peers useless for `dropAfter`: to be closed.
    public func expired(_ peers: [Peer], now: ContinuousClock.Instant) -> [Int] {
        peers.filter { now - $0.usefulAt >= dropAfter }.map(\.key)
    }

    /// The peers to close to bring `peers` down to `keeping` (a lowered limit): the longest
    /// useless first, the way a newcomer picks whom to replace.
    public func surplus(_ peers: [Peer], keeping: Int) -> [Int] {
        guard peers.count > keeping else { return [] }
        return peers.sorted { ($0.usefulAt, $0.key) < ($1.usefulAt, $1.key) }.prefix(peers.count - max(0, keeping)).map(\.key)
    }
}
