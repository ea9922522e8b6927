import Testing
@testable import ShoalCore

/// Scenarios in libtorrent's notation: a string of availability or have-flags per piece.
@Suite("Piece picker")
struct PiecePickerTests {
    /// 16 KiB pieces of one block each unless `blocksPerPiece` is given.
    static func picker(pieces: Int, blocksPerPiece: Int = 1, have: String? = nil) -> PiecePicker {
        let pieceLength = 16_384 * blocksPerPiece
        let geometry = TorrentGeometry(totalLength: Int64(pieces * pieceLength), pieceLength: pieceLength,
                                       fileLengths: [Int64(pieces * pieceLength)])
        var bits = Bitfield(count: pieces)
        for (index, char) in (have ?? String(repeating: "0", count: pieces)).enumerated() where char == "1" { bits.set(index) }
        var picker = PiecePicker(geometry: geometry, have: bits)
        picker.randomFirstPieces = 0
        return picker
    }

    static func bits(_ pattern: String) -> Bitfield {
        var bits = Bitfield(count: pattern.count)
        for (index, char) in pattern.enumerated() where char == "1" { bits.set(index) }
        return bits
    }

    /// Adds peers so that piece i is held by `availability[i]` peers (digits), plus one peer
    /// (key 100) that has everything.
    static func withAvailability(_ availability: String, picker: inout PiecePicker) {
        let counts = availability.map { Int(String($0))! }
        for peer in 0..<(counts.max() ?? 0) {
            picker.peerJoined(peer, has: bits(String(counts.map { $0 > peer ? "1" : "0" })))
        }
        picker.peerJoined(100, has: Bitfield(count: availability.count, allSet: true))
    }

    @Test func picksTheRarestPieceFirst() {
        var picker = Self.picker(pieces: 7)
        Self.withAvailability("2223133", picker: &picker)
        var rng = SeededRandom(seed: 1)
        let first = picker.pick(for: 100, count: 1, using: &rng)
        #expect(first.map(\.piece.value) == [4])  // availability 1 (+1 for peer 100)
        let next = picker.pick(for: 100, count: 3, using: &rng).map(\.piece.value)
        #expect(Set(next) == [0, 1, 2])  // the three pieces at availability 2, in some order
    }

    /// Sequential: each wanted file's first and last piece, then in order, whatever the
    /// rarity; a skipped file's pieces not at all; priority still comes first.
    @Test(arguments: [1, 2, 99])
    func sequentialTakesEdgesThenInOrder(seed: UInt64) {
        // Three files of 4, 3 and 3 pieces (one block each).
        let geometry = TorrentGeometry(totalLength: 10 * 16_384, pieceLength: 16_384,
                                       fileLengths: [4 * 16_384, 3 * 16_384, 3 * 16_384])
        var picker = PiecePicker(geometry: geometry, have: Bitfield(count: 10), filePriorities: [.normal, .skip, .normal])
        picker.randomFirstPieces = 0
        Self.withAvailability("1234567891", picker: &picker)
        picker.sequential = true
        var rng = SeededRandom(seed: seed)
        let order = (0..<7).flatMap { _ in picker.pick(for: 100, count: 1, using: &rng).map(\.piece.value) }
        #expect(order == [0, 3, 7, 9, 1, 2, 8], "edges of the wanted files first, then by index: \(order)")
        #expect(picker.pick(for: 100, count: 5, using: &rng).isEmpty, "nothing of the skipped file")

        var prioritised = PiecePicker(geometry: geometry, have: Bitfield(count: 10), filePriorities: [.normal, .normal, .high])
        prioritised.randomFirstPieces = 0
        Self.withAvailability("1111111111", picker: &prioritised)
        prioritised.sequential = true
        let first = (0..<3).flatMap { _ in prioritised.pick(for: 100, count: 1, using: &rng).map(\.piece.value) }
        #expect(first == [7, 9, 8], "the high-priority file first, edges then in order: \(first)")
        prioritised.sequential = false
        Self.withAvailability("1111111111", picker: &prioritised)
        #expect(prioritised.pick(for: 100, count: 1, using: &rng).count == 1)
    }

    @Test("ties are broken at random", arguments: 0..<3)
    func tiesAreRandom(seed: UInt64) {
        var firsts = Set<Int>()
        for trial in 0..<40 {
            var picker = Self.picker(pieces: 6)
            Self.withAvailability("111111", picker: &picker)
            var rng = SeededRandom(seed: seed * 1000 + UInt64(trial))
            firsts.insert(picker.pick(for: 100, count: 1, using: &rng)[0].piece.value)
        }
        #expect(firsts.count >= 4)
    }

    @Test("pieces a peer refused are not asked of it, partial ones included")
    func refusedPiecesAreSkipped() {
        var picker = Self.picker(pieces: 4, blocksPerPiece: 2)
        picker.peerJoined(0, has: Self.bits("1000"))
        picker.peerJoined(100, has: Self.bits("1111"))
        var rng = SeededRandom(seed: 4)
        // Piece 0 started with peer 0; peer 100 refused it and piece 2.
        #expect(picker.pick(for: 0, count: 1, using: &rng).map(\.piece.value) == [0])
        let picked = picker.pick(for: 100, count: 8, excluding: [0, 2], using: &rng)
        #expect(picked.count == 4 && Set(picked.map(\.piece.value)) == [1, 3])
        #expect(picker.pick(for: 100, count: 8, excluding: [0, 2, 99, -1], using: &rng).isEmpty)
        // Without the exclusions: the rest, then (endgame) the block peer 0 is fetching.
        #expect(picker.pick(for: 100, count: 8, using: &rng).map(\.piece.value) == [0, 2, 2, 0])
    }

    @Test func onlyAsksForWhatThePeerHasAndWeLack() {
        var picker = Self.picker(pieces: 6, have: "110000")
        picker.peerJoined(1, has: Self.bits("101010"))
        var rng = SeededRandom(seed: 3)
        let picked = picker.pick(for: 1, count: 10, using: &rng).map(\.piece.value)
        #expect(Set(picked) == [2, 4])
        #expect(picker.isInteresting(1))
        picker.peerJoined(2, has: Self.bits("110000"))
        #expect(!picker.isInteresting(2))
    }

    @Test func finishesPartialPiecesBeforeStartingNewOnes() {
        var picker = Self.picker(pieces: 4, blocksPerPiece: 4)
        picker.peerJoined(1, has: Self.bits("1111"))
        picker.peerJoined(2, has: Self.bits("1111"))
        var rng = SeededRandom(seed: 4)
        let a = picker.pick(for: 1, count: 2, using: &rng)
        #expect(Set(a.map(\.piece)).count == 1)
        let b = picker.pick(for: 2, count: 2, using: &rng)
        #expect(b.map(\.piece) == a.map(\.piece), "the second peer helps finish the started piece")
        #expect(Set(b).isDisjoint(with: Set(a)))
    }

    @Test func endgameDuplicatesAndCancels() {
        var picker = Self.picker(pieces: 1, blocksPerPiece: 2)
        picker.peerJoined(1, has: Self.bits("1"))
        picker.peerJoined(2, has: Self.bits("1"))
        var rng = SeededRandom(seed: 5)
        let first = picker.pick(for: 1, count: 5, using: &rng)
        #expect(first.count == 2)
        #expect(picker.isEndgame)
        let duplicates = picker.pick(for: 2, count: 5, using: &rng)
        #expect(Set(duplicates) == Set(first))
        let arrival = picker.received(first[0], from: 2)
        #expect(arrival.accepted)
        #expect(arrival.cancels.map(\.peer) == [1])
        #expect(!picker.received(first[0], from: 1).accepted, "the duplicate is dropped")
        #expect(picker.received(first[1], from: 1).pieceComplete)
    }

    @Test func failedPiecesAreRefetchedAndBlameTheSenders() {
        var picker = Self.picker(pieces: 2)
        picker.peerJoined(7, has: Self.bits("11"))
        var rng = SeededRandom(seed: 6)
        let block = picker.pick(for: 7, count: 1, using: &rng)[0]
        #expect(picker.received(block, from: 7).pieceComplete)
        #expect(picker.pieceFailed(block.piece) == [7])  // the sender of its one block
        let again = picker.pick(for: 7, count: 2, using: &rng)
        #expect(again.contains(block))
        picker.pieceVerified(block.piece)
        #expect(picker.have[block.piece])
    }

    @Test func releasingAPeerReturnsItsBlocks() {
        var picker = Self.picker(pieces: 1, blocksPerPiece: 4)
        picker.peerJoined(1, has: Self.bits("1"))
        picker.peerJoined(2, has: Self.bits("1"))
        var rng = SeededRandom(seed: 7)
        #expect(picker.pick(for: 1, count: 4, using: &rng).count == 4)
        picker.release(1)
        #expect(picker.outstandingCount(1) == 0)
        #expect(picker.pick(for: 2, count: 4, using: &rng).count == 4)
        #expect(!picker.isEndgame || picker.outstandingCount(2) == 4)
    }

    @Test func skippedFilesAreNotFetchedAndHighOnesComeFirst() {
        // Three files of two pieces each.
        let geometry = TorrentGeometry(totalLength: 6 * 16_384, pieceLength: 16_384, fileLengths: [32_768, 32_768, 32_768])
        var picker = PiecePicker(geometry: geometry, have: Bitfield(count: 6), filePriorities: [.skip, .normal, .high])
        picker.randomFirstPieces = 0
        picker.peerJoined(1, has: Bitfield(count: 6, allSet: true))
        var rng = SeededRandom(seed: 8)
        let picked = picker.pick(for: 1, count: 10, using: &rng).map(\.piece.value)
        #expect(picked.count == 4)
        #expect(Set(picked.prefix(2)) == [4, 5])
        #expect(!picked.contains(0) && !picked.contains(1))
        #expect(picker.wantedRemainingBytes == 4 * 16_384)
    }

    /// Four levels: every high piece before any normal one, every normal before any low, however
    /// rare the lower ones are; a piece shared by two files takes the higher file's level.
    @Test(arguments: [3, 4, 5])
    func levelsComeInOrderWhateverTheRarity(seed: UInt64) {
        // Files of 2, 2, 2½ and ½ pieces: the skipped file's last piece is the high file's only one.
        let geometry = TorrentGeometry(totalLength: 7 * 16_384, pieceLength: 16_384,
                                       fileLengths: [32_768, 32_768, 40_960, 8_192])
        var picker = PiecePicker(geometry: geometry, have: Bitfield(count: 7), filePriorities: [.low, .normal, .skip, .high])
        #expect(picker.priority(of: PieceIndex(uncheckedValue: 6)) == .high && picker.priority(of: PieceIndex(uncheckedValue: 4)) == .skip)
        picker.randomFirstPieces = 0
        Self.withAvailability("1133999", picker: &picker)
        var rng = SeededRandom(seed: seed)
        let order = (0..<6).flatMap { _ in picker.pick(for: 100, count: 1, using: &rng).map(\.piece.value) }
        #expect(order.count == 5 && order[0] == 6, "the high file's piece first: \(order)")
        #expect(Set(order[1...2]) == [2, 3] && Set(order[3...4]) == [0, 1], "normal before low, though low is rarer: \(order)")
        #expect(FilePriority.low < .normal && FilePriority.skip < .low && FilePriority.normal < .high)
        #expect(FilePriority.skip.stepped(by: 1) == .low && FilePriority.high.stepped(by: 1) == .high
            && FilePriority.low.stepped(by: -1) == .skip && FilePriority.skip.stepped(by: -1) == .skip)
    }

    @Test func randomFirstPiecesIgnoreRarity() {
        var seen = Set<Int>()
        for trial in 0..<30 {
            var picker = Self.picker(pieces: 5)
            picker.randomFirstPieces = 4
            Self.withAvailability("12222", picker: &picker)
            var rng = SeededRandom(seed: UInt64(trial))
            seen.insert(picker.pick(for: 100, count: 1, using: &rng)[0].piece.value)
        }
        #expect(seen.count > 1, "not always the rarest while starting")
    }

    @Test func leavingPeersLowerAvailability() {
        var picker = Self.picker(pieces: 3)
        picker.peerJoined(1, has: Self.bits("110"))
        picker.peerHas(1, piece: picker.geometry.piece(2)!)
        #expect(picker.availability == [1, 1, 1])
        picker.peerLeft(1)
        #expect(picker.availability == [0, 0, 0])
    }
}
