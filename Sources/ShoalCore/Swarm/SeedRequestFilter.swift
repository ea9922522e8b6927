/// Which requests a seed turns down so that its upload goes to pieces nobody else has.
///
/// While some pieces exist only at the seed, every byte it sends of a piece another peer
/// already holds (or is already being sent) is a byte the swarm could have had from that peer,
/// and a byte of the seed's upload — the flash crowd's bottleneck — lost. In a capped 1 + 8
/// swarm, a plain seed sent 13–28% more than the file, mostly pieces several leechers asked
/// for at once near the end. So a request for a block of a piece some peer has, or that went
/// to another peer, is declined with a BEP 6 reject — once: the same peer asking for the same
/// block again (at once, or after waiting as Shoal does) is served. The requester may know
/// nobody else with the piece, and pieces that nobody wants (files everyone skips) would keep
/// a "not everything is out yet" seed declining for ever. Once every piece is out, nothing is
/// declined. Pure: the caller passes the time.
public struct SeedRequestFilter: Sendable {
    public typealias PeerKey = Int
    /// How long a decline is remembered: a request for the block within it is served.
    public static let declineMemory: Duration = .seconds(30)

    private var declined: [PeerKey: [BlockRequest: ContinuousClock.Instant]] = [:]
    /// The first peer each piece was served to (while it is connected).
    private var servedTo: [Int: PeerKey] = [:]
    /// Pieces no connected peer has and none was served: counted by `recount`.
    public private(set) var undistributedPieces = 0

    public init() {}

    /// `availability`: how many connected peers have the block's piece.
    public mutating func shouldDecline(_ block: BlockRequest, from peer: PeerKey, availability: Int,
                                       now: ContinuousClock.Instant) -> Bool {
        let piece = block.piece.value
        let servedElsewhere = servedTo[piece].map { $0 != peer } ?? false
        guard (availability > 0 || servedElsewhere) && undistributedPieces > 0 else {
            if servedTo[piece] == nil { servedTo[piece] = peer }
            return false
        }
        if declined[peer]?[block] != nil {
            declined[peer]?[block] = nil
            return false
        }
        declined[peer, default: [:]][block] = now
        return true
    }

    /// Counts the pieces still only here; forgets declines older than `declineMemory`.
    public mutating func recount(availability: [Int], now: ContinuousClock.Instant) {
        undistributedPieces = availability.indices.count { availability[$0] == 0 && servedTo[$0] == nil }
        for peer in declined.keys {
            declined[peer] = declined[peer]?.filter { now - $0.value < Self.declineMemory }
            if declined[peer]?.isEmpty == true { declined[peer] = nil }
        }
    }

    /// A peer left: what was served only to it may be lost with it.
    public mutating func peerLeft(_ peer: PeerKey) {
        declined[peer] = nil
        servedTo = servedTo.filter { $0.value != peer }
    }

    public var declinedCount: Int { declined.values.reduce(0) { $0 + $1.count } }
}
