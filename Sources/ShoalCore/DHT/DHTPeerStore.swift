/// Peers other nodes announced to us (`announce_peer`), kept for 30 minutes, a bounded number
/// per torrent and in all, so a flood of announces cannot grow it without end.
public struct DHTPeerStore: Sendable {
    public static let lifetime: Duration = .seconds(30 * 60)
    public static let maxPerTorrent = 500
    public static let maxTorrents = 5_000
    private var peers: [InfoHash: [PeerAddress: ContinuousClock.Instant]] = [:]

    public init() {}

    public mutating func add(_ peer: PeerAddress, for hash: InfoHash, now: ContinuousClock.Instant) {
        if peers[hash] == nil && peers.count >= Self.maxTorrents { return }
        var list = peers[hash] ?? [:]
        if list[peer] == nil && list.count >= Self.maxPerTorrent {
            guard let oldest = list.min(by: { $0.value < $1.value })?.key else { return }
            list[oldest] = nil
        }
        list[peer] = now
        peers[hash] = list
    }

    /// Up to `count` live peers for the torrent, of one address family if one is named.
    public func peers(for hash: InfoHash, family: DHTFamily? = nil, count: Int = 50, now: ContinuousClock.Instant) -> [PeerAddress] {
        (peers[hash] ?? [:]).filter { now - $0.value < Self.lifetime && (family == nil || DHTFamily(of: $0.key) == family) }
            .map(\.key).sorted().prefix(count).map { $0 }
    }

    public mutating func expire(now: ContinuousClock.Instant) {
        for hash in Array(peers.keys) {
            peers[hash] = peers[hash]!.filter { now - $0.value < Self.lifetime }
            if peers[hash]!.isEmpty { peers[hash] = nil }
        }
    }

    public var torrentCount: Int { peers.count }
}
