import Testing
@testable import ShoalCore

@Suite("Peer slots")
struct PeerSlotsTests {
    let start = ContinuousClock.now

    func peers(incoming: Int, outgoing: Int = 0, usefulAt: ContinuousClock.Instant) -> [PeerSlots.Peer] {
        (0..<incoming).map { PeerSlots.Peer(key: $0, incoming: true, usefulAt: usefulAt) }
            + (0..<outgoing).map { PeerSlots.Peer(key: 100 + $0, incoming: false, usefulAt: usefulAt) }
    }

    @Test func aFifthOfTheSlotsIsKeptForPeersWeDial() {
        let slots = PeerSlots(limit: 50)
        #expect(slots.incomingLimit == 40)
        let full = peers(incoming: 40, usefulAt: start)
        #expect(slots.admit(incoming: false, among: full, now: start) == .admit)
        if case .refuse = slots.admit(incoming: true, among: full, now: start) {} else { Issue.record("incoming share is full") }
    }

    @Test func aNewcomerReplacesThePeerUselessLongest() {
        let slots = PeerSlots(limit: 10, replaceAfter: .seconds(30))
        var list = peers(incoming: 8, outgoing: 2, usefulAt: start + .seconds(20))
        list[3].usefulAt = start  // useless since the start
        list[5].usefulAt = start + .seconds(5)
        #expect(slots.admit(incoming: true, among: list, now: start + .seconds(31)) == .replace(3))
        #expect(slots.admit(incoming: false, among: list, now: start + .seconds(36)) == .replace(3))
        // Not yet useless for long enough: refused, nobody is cut.
        if case .refuse = slots.admit(incoming: true, among: list, now: start + .seconds(20)) {} else { Issue.record("refused") }
    }

    @Test func anIncomingNewcomerOnlyDisplacesIncomingPeers() {
        let slots = PeerSlots(limit: 10, replaceAfter: .seconds(1))
        var list = peers(incoming: 8, usefulAt: start + .seconds(10))
        list.append(PeerSlots.Peer(key: 99, incoming: false, usefulAt: start))
        if case .replace(let victim) = slots.admit(incoming: true, among: list, now: start + .seconds(20)) {
            #expect(victim != 99, "a peer we dialled is not displaced by an incoming one while there is room")
        } else {
            Issue.record("a useless incoming peer should make room")
        }
    }

    @Test func uselessPeersExpire() {
        let slots = PeerSlots(limit: 50, dropAfter: .seconds(600))
        var list = peers(incoming: 3, usefulAt: start)
        list[1].usefulAt = start + .seconds(300)
        #expect(slots.expired(list, now: start + .seconds(599)).isEmpty)
        #expect(Set(slots.expired(list, now: start + .seconds(600))) == [0, 2])
    }

    @Test func aLoweredLimitClosesTheLongestUselessFirst() {
        let slots = PeerSlots(limit: 3)
        var list = peers(incoming: 3, outgoing: 2, usefulAt: start + .seconds(50))
        list[1].usefulAt = start
        list[4].usefulAt = start + .seconds(10)
        #expect(slots.surplus(list, keeping: 3) == [1, 101])
        #expect(Set(slots.surplus(list, keeping: 0)) == Set(list.map(\.key)))
        #expect(slots.surplus(list, keeping: 5).isEmpty && slots.surplus(list, keeping: 9).isEmpty)
        #expect(slots.surplus(list, keeping: -2).count == 5)
    }
}

@Suite("Close reasons")
struct CloseReasonTests {
    @Test func countsRankMostFrequentFirstAndTiesInDeclarationOrder() {
        var counts = CloseCounts()
        for kind in [CloseReason.Kind.timedOut, .closedByPeer, .closedByPeer, .handshakeFailed, .closedByPeer, .timedOut] { counts.add(kind) }
        #expect(counts.total == 6)
        #expect(counts[.closedByPeer] == 3 && counts[.badData] == 0)
        #expect(counts.ranked.map(\.kind) == [.closedByPeer, .timedOut, .handshakeFailed])
        #expect(counts.ranked.map(\.count) == [3, 2, 1])
        var ties = CloseCounts()
        for kind in [CloseReason.Kind.stopped, .badData, .connectFailed] { ties.add(kind) }
        #expect(ties.ranked.map(\.kind) == [.connectFailed, .badData, .stopped], "a tie keeps the declared order")
    }

    @Test func descriptionNamesTheKindThenTheDetail() {
        #expect(CloseReason(.badData, "sent data that failed the hash check").description == "banned for bad data: sent data that failed the hash check")
        #expect(CloseReason(.bothSeeds).description == "both seeds")
        #expect(Set(CloseReason.Kind.allCases.map(\.short)).count == CloseReason.Kind.allCases.count, "every short label is distinct")
    }
}
