import ShoalCore

/// A torrent's trackers as BEP 12 tiers, and what each last said: the tiers as set (by the
/// metainfo, a magnet or the user), the order the announcer tries them in (each tier shuffled
/// once per edit, a tracker that answers moved to the front of its tier), each tracker's state as
/// shown, and the `tracker id` each gave us. A torrent and a magnet's metadata phase keep one each
/// and announce through the same code (`TieredAnnouncer`).
struct TrackerTiers: Sendable {
    /// The tiers announced to: the metainfo's, the magnet's, or the user's edit of them.
    private(set) var tiers: [[String]]
    /// Counts edits, so an announce under way does not write back an order from before one.
    private(set) var edits = 0
    /// The tiers in the order the announcer tries them, and the edit they follow.
    private var order: (tiers: [[String]], edits: Int)?
    var states: [TrackerSnapshot]
    /// `tracker id` each tracker gave us, sent back on its later announces (BEP 3).
    var ids: [String: String] = [:]

    init(_ tiers: [[String]]) {
        self.tiers = tiers
        states = tiers.enumerated().flatMap { tier, urls in urls.map { Self.fresh($0, tier: tier) } }
    }

    var isEmpty: Bool { tiers.isEmpty }

    /// Every tracker, once each, in a stable order (scrapes ask each).
    var urls: [String] { Array(Set(states.map(\.url))).sorted() }

    /// The user's new tiers; a tracker kept keeps its state. False when nothing changed.
    mutating func set(_ new: [[String]]) -> Bool {
        guard new != tiers else { return false }
        tiers = new
        edits += 1
        var kept: [String: TrackerSnapshot] = [:]
        for state in states where kept[state.url] == nil { kept[state.url] = state }
        states = new.enumerated().flatMap { tier, urls in
            urls.map { url in
                var state = kept[url] ?? Self.fresh(url, tier: tier)
                state.tier = tier
                return state
            }
        }
        return true
    }

    /// The order to try the trackers in: each tier shuffled once after each edit, then as the
    /// answers taught it.
    mutating func announceOrder(using rng: inout SplitMix64) -> (tiers: [[String]], edits: Int) {
        if order == nil || order?.edits != edits { order = (tiers.map { $0.shuffled(using: &rng) }, edits) }
        return order!
    }

    /// `url` answered: first in its tier from now on, unless the user edited the list since
    /// `edits` (the order then starts afresh).
    mutating func answered(_ url: String, orderFrom edits: Int) {
        guard edits == self.edits, var tiers = order?.tiers,
              let tier = tiers.firstIndex(where: { $0.contains(url) }), let position = tiers[tier].firstIndex(of: url)
        else { return }
        tiers[tier].remove(at: position)
        tiers[tier].insert(url, at: 0)
        order = (tiers, edits)
    }

    mutating func update(_ url: String, _ change: (inout TrackerSnapshot) -> Void) {
        for index in states.indices where states[index].url == url { change(&states[index]) }
    }

    mutating func setNextAnnounce(_ instant: ContinuousClock.Instant?) {
        for index in states.indices { states[index].nextAnnounce = instant }
    }

    /// Trackers that answered an announce: the only ones that know we are here.
    var announcedTo: Set<String> { Set(states.filter { $0.error == nil && $0.lastAnnounce != nil }.map(\.url)) }

    private static func fresh(_ url: String, tier: Int) -> TrackerSnapshot {
        TrackerSnapshot(url: url, tier: tier, status: "waiting", error: nil, lastAnnounce: nil, nextAnnounce: nil, seeders: nil,
                        leechers: nil, peersReturned: 0)
    }
}
