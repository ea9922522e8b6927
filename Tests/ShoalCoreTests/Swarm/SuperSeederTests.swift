import Testing
@testable import ShoalCore

@Suite("Super-seeding (BEP 16)")
struct SuperSeederTests {
    @Test func eachPeerIsShownADifferentPieceAndMoreOnlyOnceItSpreads() {
        var seeder = SuperSeeder(pieceCount: 6)
        var availability = [Int](repeating: 0, count: 6)
        let a = seeder.peerJoined(1, has: [], availability: availability)
        let b = seeder.peerJoined(2, has: [], availability: availability)
        let c = seeder.peerJoined(3, has: [], availability: availability)
        #expect(Set([a, b, c].compactMap { $0 }).count == 3, "three peers, three different pieces")
        #expect(seeder.mayServe(1, piece: a!) && !seeder.mayServe(1, piece: b!))
        // Peer 1 gets its piece: peers 2 and 3 still lack it, so it waits.
        availability[a!] += 1
        #expect(seeder.peerHas(1, piece: a!, availability: availability).isEmpty)
        // Peer 2 gets peer 1's piece from peer 1: now peer 1 is shown a new piece.
        availability[a!] += 1
        let offers = seeder.peerHas(2, piece: a!, availability: availability)
        #expect(offers.count == 1 && offers[0].0 == 1 && ![a, b, c].contains(offers[0].1))
    }

    @Test func aLonePeerIsNotLeftWaiting() {
        var seeder = SuperSeeder(pieceCount: 3)
        var availability = [0, 0, 0]
        var piece = seeder.peerJoined(7, has: [], availability: availability)
        var got: Set<Int> = []
        while let current = piece {
            got.insert(current)
            availability[current] += 1
            piece = seeder.peerHas(7, piece: current, availability: availability).first?.1
        }
        #expect(got == [0, 1, 2])
        #expect(seeder.isFinished(availability: availability))
    }
}
