import ShoalCore

/// One torrent's peers at the tracker, built for announces at high rates: peers live in an
/// array (O(1) random access for sampling), a dictionary maps peer ids to their slots, removal
/// swaps the last peer in, and the seed count is kept as peers come and go.
struct TrackerSwarm: Sendable {
    struct Peer: Sendable {
        var id: PeerID
        var address: PeerAddress
        var left: Int64
        var lastSeen: ContinuousClock.Instant
    }

    private(set) var peers: [Peer] = []
    private var slots: [PeerID: Int] = [:]
    private(set) var seeders = 0
    /// Completed downloads seen (`event=completed`), for scrape's `downloaded`.
    var downloaded = 0

    var count: Int { peers.count }
    var leechers: Int { peers.count - seeders }

    func peer(_ id: PeerID) -> Peer? { slots[id].map { peers[$0] } }

    mutating func update(_ peer: Peer) {
        if let slot = slots[peer.id] {
            if peers[slot].left == 0 { seeders -= 1 }
            peers[slot] = peer
        } else {
            slots[peer.id] = peers.count
            peers.append(peer)
        }
        if peer.left == 0 { seeders += 1 }
    }

    mutating func remove(_ id: PeerID) {
        guard let slot = slots.removeValue(forKey: id) else { return }
        if peers[slot].left == 0 { seeders -= 1 }
        let last = peers.removeLast()
        if slot < peers.count {
            peers[slot] = last
            slots[last.id] = slot
        }
    }

    mutating func expire(before cutoff: ContinuousClock.Instant) {
        var slot = peers.count - 1
        while slot >= 0 {
            if peers[slot].lastSeen < cutoff { remove(peers[slot].id) }
            slot -= 1
        }
    }

    /// Up to `want` addresses other than `asker`'s; with `leechersFirst`, leechers and then,
    /// if there is room, seeds. Walks the array from a random start with a random stride coprime
    /// to its length, so every peer can be picked and the cost is about `want`, not the size of
    /// the swarm (twice that at most with `leechersFirst`).
    func sample(_ want: Int, excluding asker: PeerID, leechersFirst: Bool, using rng: inout some RandomNumberGenerator) -> [PeerAddress] {
        let n = peers.count
        guard want > 0, n > 0 else { return [] }
        var stride = n == 1 ? 1 : Int.random(in: 1..<n, using: &rng)
        while gcd(stride, n) != 1 { stride += 1 }
        let start = Int.random(in: 0..<n, using: &rng)
        var out: [PeerAddress] = []
        out.reserveCapacity(min(want, n))
        for pass in leechersFirst ? [true, false] : [false] {
            // First pass (leechers first): leechers only; last pass: whoever is left.
            if pass && leechers == 0 { continue }
            var slot = start
            for _ in 0..<n {
                let peer = peers[slot]
                let wanted = pass ? peer.left > 0 : (!leechersFirst || peer.left == 0)
                if peer.id != asker && wanted {
                    out.append(peer.address)
                    if out.count == want { return out }
                }
                slot = (slot + stride) % n
            }
        }
        return out
    }

    private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
