import Testing
@testable import ShoalCore

@Suite("Choker")
struct ChokerTests {
    static func samples(_ rates: [Double], interested: Bool = true) -> [Choker.Sample] {
        rates.enumerated().map { Choker.Sample(peer: $0.offset, isInterested: interested, downloadRate: $0.element, uploadRate: 0) }
    }

    @Test func unchokesTheFourBestPlusOneOptimistic() {
        var choker = Choker()
        var rng = SeededRandom(seed: 1)
        let start = ContinuousClock.now
        let unchoked = choker.round(Self.samples([10, 50, 40, 30, 20, 5, 1]), seeding: false, now: start, using: &rng)
        #expect(unchoked.count == 5)
        #expect(unchoked.isSuperset(of: [1, 2, 3, 4]))
        let optimistic = try! #require(choker.optimistic)
        #expect(![1, 2, 3, 4].contains(optimistic))
    }

    @Test func optimisticRotatesEveryThirtySeconds() {
        var choker = Choker()
        var rng = SeededRandom(seed: 2)
        let start = ContinuousClock.now
        let samples = Self.samples([100, 90, 80, 70, 1, 1, 1, 1, 1, 1])
        _ = choker.round(samples, seeding: false, now: start, using: &rng)
        let first = choker.optimistic
        _ = choker.round(samples, seeding: false, now: start + .seconds(10), using: &rng)
        #expect(choker.optimistic == first)
        _ = choker.round(samples, seeding: false, now: start + .seconds(30), using: &rng)
        #expect(choker.optimistic != first)
    }

    @Test func uninterestedAndSnubbedPeersGetNoRegularSlot() {
        var choker = Choker(regularSlots: 2)
        var rng = SeededRandom(seed: 3)
        var samples = Self.samples([100, 90, 80])
        samples[0].isSnubbed = true
        samples.append(Choker.Sample(peer: 9, isInterested: false, downloadRate: 1000, uploadRate: 0))
        let unchoked = choker.round(samples, seeding: false, now: .now, using: &rng)
        #expect(unchoked.isSuperset(of: [1, 2]))
        #expect(!unchoked.contains(9))
        #expect(choker.optimistic == 0, "the only one left is the snubbed peer")
    }

    @Test func seedingSlotsGoRoundRobin() {
        var choker = Choker(regularSlots: 2)
        choker.seedSlots = 3
        var rng = SeededRandom(seed: 4)
        let start = ContinuousClock.now
        // Peer 0 takes our uploads fastest; seeding, that buys it nothing.
        let samples = (0..<10).map { Choker.Sample(peer: $0, isInterested: true, downloadRate: 0, uploadRate: $0 == 0 ? 1e9 : 1) }
        var turns = [Int](repeating: 0, count: 10)
        var previous: Set<Int> = []
        for round in 0..<10 {
            let unchoked = choker.round(samples, seeding: true, now: start + .seconds(10 * round), using: &rng)
            #expect(unchoked.count == 3)
            #expect(unchoked.isDisjoint(with: previous), "round \(round): a turn lasts one round")
            for peer in unchoked { turns[peer] += 1 }
            previous = unchoked
        }
        #expect(turns == [Int](repeating: 3, count: 10))
        #expect(choker.optimistic == nil)
    }

    @Test func seedingKeepsATurnUntilTheRoundEndsAndGivesFreeSlotsAtOnce() {
        var choker = Choker(regularSlots: 1)
        choker.seedSlots = 2
        var rng = SeededRandom(seed: 5)
        let start = ContinuousClock.now
        var samples = Self.samples([0, 0])
        #expect(choker.round(samples, seeding: true, now: start, using: &rng) == [0, 1])
        // A newcomer mid-round waits: the two turns are not over.
        samples += Self.samples([0, 0, 0]).dropFirst(2)
        #expect(choker.round(samples, seeding: true, now: start + .seconds(3), using: &rng) == [0, 1])
        #expect(choker.round(samples, seeding: true, now: start + .seconds(10), using: &rng) == [2, 0])
        // No more peers than slots: nobody is rotated out.
        var few = Choker(regularSlots: 1)
        few.seedSlots = 5
        for round in 0..<3 {
            #expect(few.round(samples, seeding: true, now: start + .seconds(10 * round), using: &rng) == [0, 1, 2])
        }
    }

    @Test func pipelineDepthFollowsTheRate() {
        #expect(RequestPipeline.depth(downloadRate: 0, isSnubbed: false) == RequestPipeline.minimumDepth)
        #expect(RequestPipeline.depth(downloadRate: 10 * 1_048_576, isSnubbed: false) == RequestPipeline.maximumDepth)
        #expect(RequestPipeline.depth(downloadRate: 1_048_576, isSnubbed: false) == 128)
        #expect(RequestPipeline.depth(downloadRate: 1_048_576, isSnubbed: true) == 1)
    }

    @Test func torrentBudgetBoundsRequestsButStarvesNoPeer() {
        let budget = RequestPipeline.torrentBudget
        #expect(RequestPipeline.wanted(depth: 128, outstanding: 100, torrentOutstanding: 100) == 28)
        #expect(RequestPipeline.wanted(depth: 500, outstanding: 0, torrentOutstanding: budget - 10) == 10)
        #expect(RequestPipeline.wanted(depth: 500, outstanding: 300, torrentOutstanding: budget + 50) == 0)
        // A new peer still gets its minimum when faster ones hold the whole budget.
        #expect(RequestPipeline.wanted(depth: 500, outstanding: 1, torrentOutstanding: budget) == RequestPipeline.minimumDepth - 1)
        // A snubbed peer stays at one.
        #expect(RequestPipeline.wanted(depth: 1, outstanding: 0, torrentOutstanding: budget) == 1)
        #expect(RequestPipeline.wanted(depth: 1, outstanding: 1, torrentOutstanding: 0) == 0)
    }
}
