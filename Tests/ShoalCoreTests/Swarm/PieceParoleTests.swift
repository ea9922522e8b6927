import Testing
@testable import ShoalCore

/// Parole: after a piece fails with blocks from several peers, each of them downloads whole
/// pieces alone, so the liar's next piece names it — at any rate and in any order.
@Suite("Piece picker: parole after a failed piece")
struct PieceParoleTests {
    static func picker(pieces: Int, blocksPerPiece: Int) -> PiecePicker {
        let pieceLength = 16_384 * blocksPerPiece
        let geometry = TorrentGeometry(totalLength: Int64(pieces * pieceLength), pieceLength: pieceLength,
                                       fileLengths: [Int64(pieces * pieceLength)])
        var picker = PiecePicker(geometry: geometry, have: Bitfield(count: pieces))
        picker.randomFirstPieces = 0
        return picker
    }

    @Test func aPeerOnParoleDownloadsWholePiecesAlone() {
        var picker = Self.picker(pieces: 6, blocksPerPiece: 4)
        let all = Bitfield(count: 6, allSet: true)
        picker.peerJoined(1, has: all)
        picker.peerJoined(2, has: all)
        var rng = SeededRandom(seed: 1)
        picker.putOnParole([1])
        let alone = picker.pick(for: 1, count: 2, using: &rng)
        let piece = alone[0].piece
        #expect(Set(alone.map(\.piece)).count == 1)
        // Nobody else joins it, not even when it has open blocks left.
        let others = picker.pick(for: 2, count: 20, using: &rng)
        #expect(!others.contains { $0.piece == piece })
        // ... and the parole peer continues it before starting another.
        let more = picker.pick(for: 1, count: 2, using: &rng)
        #expect(more.allSatisfy { $0.piece == piece })
        // A block of it from someone else is refused; the parole peer's blocks of others are too.
        #expect(!picker.received(more[0], from: 2).accepted)
        #expect(!picker.received(others[0], from: 1).accepted)
        #expect(picker.received(more[0], from: 1).accepted)
    }

    @Test func aGoodPieceOfItsOwnEndsParole() {
        var picker = Self.picker(pieces: 3, blocksPerPiece: 2)
        picker.peerJoined(1, has: Bitfield(count: 3, allSet: true))
        picker.putOnParole([1])
        var rng = SeededRandom(seed: 2)
        let blocks = picker.pick(for: 1, count: 2, using: &rng)
        for block in blocks { _ = picker.received(block, from: 1) }
        picker.pieceVerified(blocks[0].piece)
        #expect(!picker.parole.contains(1))
    }

    @Test func aChokedParoleePieceStartsOver() {
        var picker = Self.picker(pieces: 3, blocksPerPiece: 4)
        picker.peerJoined(1, has: Bitfield(count: 3, allSet: true))
        picker.peerJoined(2, has: Bitfield(count: 3, allSet: true))
        picker.putOnParole([1])
        var rng = SeededRandom(seed: 3)
        let blocks = picker.pick(for: 1, count: 2, using: &rng)
        _ = picker.received(blocks[0], from: 1)
        picker.release(1)
        // Nothing of its half-done piece is kept to mix with another peer's blocks.
        let again = picker.pick(for: 2, count: 12, using: &rng)
        #expect(again.filter { $0.piece == blocks[0].piece }.count == 4)
    }

    /// The parole survives the peer's bitfield arriving after its registration.
    @Test func paroleSurvivesALateBitfield() {
        var picker = Self.picker(pieces: 3, blocksPerPiece: 1)
        picker.peerJoined(1, has: Bitfield(count: 3))
        picker.putOnParole([1])
        picker.peerJoined(1, has: Bitfield(count: 3, allSet: true))
        #expect(picker.parole.contains(1))
    }

    /// An honest peer and a liar that claims everything, delivering blocks at random relative
    /// rates (1:50 to 50:1) and in random order: whatever the mix, the liar is named by a piece
    /// it sent alone, soon, and the download completes with good data only.
    @Test(arguments: 1...40) func aLiarIsCaughtAtAnyRate(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let pieceCount = 40
        var picker = Self.picker(pieces: pieceCount, blocksPerPiece: 4)
        let all = Bitfield(count: pieceCount, allSet: true)
        let honest = 1, liar = 2
        picker.peerJoined(honest, has: all)
        picker.peerJoined(liar, has: all)
        // Relative chance that the next block to arrive is the liar's.
        let liarShare = Double(1 + rng.next() % 50) / Double(1 + rng.next() % 50)
        var inFlight: [Int: [BlockRequest]] = [honest: [], liar: []]
        var liarBlocks: [Int: Set<Int>] = [:]  // piece -> block numbers the liar sent
        var banned = false
        var failures = 0
        /// Pieces under way when the first piece failed: each may fail too, before parole.
        var underWayAtFirstFailure: Int?
        var steps = 0
        while !picker.isDone && steps < 200_000 {
            steps += 1
            for peer in [honest, liar] where !(peer == liar && banned) {
                let want = 8 - inFlight[peer]!.count
                if want > 0 { inFlight[peer]! += picker.pick(for: peer, count: want, using: &rng) }
            }
            let liarNext = !banned && !inFlight[liar]!.isEmpty
                && (inFlight[honest]!.isEmpty || Double(rng.next() % 10_000) / 10_000 < liarShare / (1 + liarShare))
            let sender = liarNext ? liar : honest
            guard !inFlight[sender]!.isEmpty else { continue }
            let block = inFlight[sender]!.remove(at: Int(rng.next() % UInt64(inFlight[sender]!.count)))
            let arrival = picker.received(block, from: sender)
            guard arrival.accepted else { continue }
            let number = block.offset / TorrentGeometry.blockLength
            if sender == liar { liarBlocks[block.piece.value, default: []].insert(number) } else {
                liarBlocks[block.piece.value]?.remove(number)
            }
            guard arrival.pieceComplete else { continue }
            if liarBlocks[block.piece.value]?.isEmpty ?? true {
                picker.pieceVerified(block.piece)
            } else {
                if underWayAtFirstFailure == nil { underWayAtFirstFailure = picker.piecesInProgress.count }
                failures += 1
                let senders = Set(picker.pieceFailed(block.piece).compactMap { $0 })
                liarBlocks[block.piece.value] = nil
                if senders == [liar] {
                    banned = true
                    picker.peerLeft(liar)
                    inFlight[liar] = []
                } else {
                    #expect(!senders.isEmpty)
                    picker.putOnParole(senders)
                    for peer in senders { inFlight[peer] = inFlight[peer]!.filter { picker.outstandingBlocks(peer).contains($0) } }
                }
            }
        }
        #expect(picker.isDone, "share \(liarShare): stuck after \(steps) steps")
        let liarEverSent = failures > 0
        if liarEverSent { #expect(banned, "share \(liarShare): the liar was never named (\(failures) failed pieces)") }
        // Before parole the pieces under way at once can fail together; after it, one more.
        #expect(failures <= (underWayAtFirstFailure ?? 0) + 1, "share \(liarShare): \(failures) failed pieces")
    }
}
