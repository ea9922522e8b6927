import ShoalCore
@testable import ShoalEngine
import Testing

/// The order a torrent's (or a magnet's) trackers are tried in, and what an edit keeps (BEP 12).
@Suite("Tracker tiers")
struct TrackerTiersTests {
    private let tiers = [["http://a/1", "http://b/1", "http://c/1", "http://d/1"], ["udp://e:1"]]

    @Test func eachTierShuffledOnceAndAnAnswerMovesItsTrackerToTheFront() {
        var trackers = TrackerTiers(tiers)
        var rng = SplitMix64(seed: 7)
        let (first, edits) = trackers.announceOrder(using: &rng)
        #expect(first.map { Set($0) } == tiers.map { Set($0) }, "the same trackers in the same tiers")
        // Asked again (no answer, no edit): the same order, not a new shuffle.
        for _ in 0..<20 {
            let again = trackers.announceOrder(using: &rng).tiers
            #expect(again == first)
        }
        let last = first[0][3]
        trackers.answered(last, orderFrom: edits)
        let taught = trackers.announceOrder(using: &rng).tiers
        #expect(taught[0] == [last] + first[0].prefix(3), "the one that answered goes first; the rest keep their order")
        #expect(taught[1] == first[1])
    }

    @Test func anEditStartsTheOrderAfreshAndKeepsTheStatesOfKeptTrackers() {
        var trackers = TrackerTiers(tiers)
        var rng = SplitMix64(seed: 8)
        let (_, before) = trackers.announceOrder(using: &rng)
        trackers.update("udp://e:1") { $0.status = "working"; $0.seeders = 5 }
        let changed = trackers.set([["udp://e:1"], ["http://f/1"]])
        let again = trackers.set([["udp://e:1"], ["http://f/1"]])
        #expect(changed)
        #expect(!again, "the same tiers again: no edit")
        // An answer to an announce that began before the edit teaches nothing.
        trackers.answered("udp://e:1", orderFrom: before)
        let order = trackers.announceOrder(using: &rng).tiers
        #expect(order == [["udp://e:1"], ["http://f/1"]])
        let kept = trackers.states.first { $0.url == "udp://e:1" }
        #expect(kept?.status == "working" && kept?.seeders == 5 && kept?.tier == 0)
        #expect(trackers.states.first { $0.url == "http://f/1" }?.status == "waiting")
        #expect(trackers.urls == ["http://f/1", "udp://e:1"])
        #expect(trackers.announcedTo.isEmpty, "nobody answered an announce")
    }
}
