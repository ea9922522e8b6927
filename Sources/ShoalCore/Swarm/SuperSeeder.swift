/// Super-seeding (BEP 16) for an initial seeder: it shows each peer one piece at a time, the
/// piece offered least so far (and among those, the rarest), and offers that peer a new piece
/// only once the previous one has been seen at another peer — so what the seeder uploads is
/// spread by the leechers instead of being sent twice. Pure: the torrent tells it what peers
/// have and sends the `have` messages it returns.
public struct SuperSeeder: Sendable {
    public typealias PeerKey = Int
    public let pieceCount: Int
    /// The piece each peer was last shown, and everything each peer was shown.
    private(set) var offered: [PeerKey: Int] = [:]
    private var shown: [PeerKey: Set<Int>] = [:]
    private var timesOffered: [Int]
    private var peerPieces: [PeerKey: Set<Int>] = [:]

    public init(pieceCount: Int) {
        self.pieceCount = pieceCount
        self.timesOffered = [Int](repeating: 0, count: pieceCount)
    }

    /// Whether `piece` was shown to `peer` (requests for anything else are refused).
    public func mayServe(_ peer: PeerKey, piece: Int) -> Bool { shown[peer]?.contains(piece) == true }

    /// A peer joined with these pieces: the piece to show it, if it lacks any.
    public mutating func peerJoined(_ peer: PeerKey, has pieces: Set<Int>, availability: [Int]) -> Int? {
        peerPieces[peer] = pieces
        return offer(to: peer, availability: availability)
    }

    public mutating func peerLeft(_ peer: PeerKey) {
        offered[peer] = nil
        shown[peer] = nil
        peerPieces[peer] = nil
    }

    /// A peer announced a piece: the new offers this unlocks, as (peer, piece).
    public mutating func peerHas(_ peer: PeerKey, piece: Int, availability: [Int]) -> [(PeerKey, Int)] {
        peerPieces[peer, default: []].insert(piece)
        var offers: [(PeerKey, Int)] = []
        // Those shown this piece before see it spread: they get a new one.
        for (other, current) in offered where other != peer && current == piece {
            if let next = offer(to: other, availability: availability) { offers.append((other, next)) }
        }
        // The peer got what it was shown; with nobody left to pass it on to, it gets another
        // at once rather than waiting for ever.
        if offered[peer] == piece, !peerPieces.contains(where: { $0.key != peer && !$0.value.contains(piece) }) {
            if let next = offer(to: peer, availability: availability) { offers.append((peer, next)) }
        }
        return offers
    }

    /// Every piece has reached some peer: plain seeding does better from here on.
    public func isFinished(availability: [Int]) -> Bool { !availability.contains(0) }

    private mutating func offer(to peer: PeerKey, availability: [Int]) -> Int? {
        let has = peerPieces[peer] ?? []
        let seen = shown[peer] ?? []
        var best: Int?
        for piece in 0..<pieceCount where !has.contains(piece) && !seen.contains(piece) {
            guard let current = best else { best = piece; continue }
            if (timesOffered[piece], availability[piece]) < (timesOffered[current], availability[current]) { best = piece }
        }
        guard let piece = best else { return nil }
        timesOffered[piece] += 1
        offered[peer] = piece
        shown[peer, default: []].insert(piece)
        return piece
    }
}
