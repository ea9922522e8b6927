import Testing
@testable import ShoalCore

@Suite("Seed request filter")
struct SeedRequestFilterTests {
    static let geometry = TorrentGeometry(totalLength: 4 * 32_768, pieceLength: 32_768, fileLengths: [4 * 32_768])
    static func block(_ piece: Int, _ number: Int = 0) -> BlockRequest { geometry.block(number, of: geometry.piece(piece)!) }

    @Test func declinesPiecesOthersHaveOrWereSentWhileSomeAreOnlyHere() {
        var filter = SeedRequestFilter()
        let now = ContinuousClock.now
        func declines(_ block: BlockRequest, from peer: Int, availability: Int = 0) -> Bool {
            filter.shouldDecline(block, from: peer, availability: availability, now: now)
        }
        #expect(!declines(Self.block(1), from: 1, availability: 2), "before the first count: served")
        filter.recount(availability: [0, 2, 0, 0], now: now)
        #expect(filter.undistributedPieces == 3)
        #expect(!declines(Self.block(0), from: 1), "only here: served")
        #expect(!declines(Self.block(0, 1), from: 1), "the same peer gets the rest of the piece")
        #expect(declines(Self.block(0), from: 2), "already sent to peer 1")
        #expect(declines(Self.block(1), from: 3, availability: 2), "another peer has it")
        #expect(declines(Self.block(1, 1), from: 3, availability: 2), "each block once")
        filter.recount(availability: [0, 2, 0, 0], now: now)
        #expect(filter.undistributedPieces == 2, "piece 0 went out")
        filter.peerLeft(1)
        filter.recount(availability: [0, 2, 0, 0], now: now)
        #expect(filter.undistributedPieces == 3, "and left with peer 1")
        #expect(!declines(Self.block(0), from: 2), "so it is served again")
        filter.recount(availability: [1, 1, 1, 1], now: now)
        #expect(!declines(Self.block(3), from: 4, availability: 1), "everything out: served")
    }

    /// Declined once, served when asked again — at once or after any wait — so a peer that
    /// can get the piece nowhere else is never starved, even while pieces nobody wants keep
    /// "undistributed" above zero.
    @Test func aPeerThatAsksAgainIsServed() {
        var filter = SeedRequestFilter()
        let start = ContinuousClock.now
        filter.recount(availability: [1, 0, 1, 1], now: start)
        func declines(after delay: Duration, block: BlockRequest = Self.block(2)) -> Bool {
            filter.shouldDecline(block, from: 7, availability: 1, now: start + delay)
        }
        #expect(declines(after: .zero))
        #expect(!declines(after: .milliseconds(5)), "asked again at once: served")
        #expect(declines(after: .seconds(1)), "a new request for it: declined once more")
        #expect(!declines(after: .seconds(3)), "asked again after waiting: served")
        // A peer that keeps asking every second for a minute: every other request is served.
        let outcomes = (0..<60).map { declines(after: .seconds(4 + $0), block: Self.block(3)) }
        #expect(outcomes == (0..<60).map { $0 % 2 == 0 })
        #expect(declines(after: .seconds(70)))
        filter.recount(availability: [1, 0, 1, 1], now: start + .seconds(80))
        #expect(filter.declinedCount == 1)
        filter.recount(availability: [1, 0, 1, 1], now: start + .seconds(101))
        #expect(filter.declinedCount == 0)
    }
}
