import Testing
@testable import ShoalCore

@Suite("Torrent geometry")
struct TorrentGeometryTests {
    // Files of 10, 0, 40000, 1 bytes with 16 KiB pieces: 40011 bytes, 3 pieces.
    let geometry = TorrentGeometry(totalLength: 40011, pieceLength: 16384, fileLengths: [10, 0, 40000, 1])

    @Test func countsPiecesAndBlocks() throws {
        #expect(geometry.pieceCount == 3)
        let last = try #require(geometry.piece(2))
        #expect(geometry.length(of: last) == 40011 - 32768)
        #expect(geometry.blockCount(of: last) == 1)
        #expect(geometry.piece(3) == nil)
        #expect(geometry.piece(-1) == nil)
    }

    @Test func blocksOfAPieceTileItExactly() {
        let big = TorrentGeometry(totalLength: 100_000, pieceLength: 65536, fileLengths: [100_000])
        for piece in big.allPieces {
            let blocks = big.blocks(of: piece)
            #expect(blocks.reduce(0) { $0 + $1.length } == big.length(of: piece))
            #expect(blocks.last!.offset + blocks.last!.length == big.length(of: piece))
        }
    }

    @Test func validatesPeerRequests() {
        #expect(geometry.request(piece: 0, offset: 0, length: 16384) != nil)
        #expect(geometry.request(piece: 2, offset: 0, length: 7243) != nil)
        #expect(geometry.request(piece: 2, offset: 0, length: 7244) == nil)  // crosses the end
        #expect(geometry.request(piece: 0, offset: 16000, length: 1000) == nil)  // crosses a piece end
        #expect(geometry.request(piece: 0, offset: 0, length: 16385) == nil)  // longer than a block
        #expect(geometry.request(piece: 0, offset: -1, length: 10) == nil)
        #expect(geometry.request(piece: 0, offset: 0, length: 0) == nil)
        #expect(geometry.request(piece: 3, offset: 0, length: 1) == nil)
    }

    @Test func spansCrossFilesAndSkipEmptyOnes() throws {
        let spans = geometry.fileSpans(of: try #require(geometry.piece(0)))
        #expect(spans == [
            FileSpan(file: 0, offsetInFile: 0, length: 10, offsetInRange: 0),
            FileSpan(file: 2, offsetInFile: 0, length: 16374, offsetInRange: 10),
        ])
        let tail = geometry.fileSpans(of: try #require(geometry.piece(2)))
        #expect(tail == [
            FileSpan(file: 2, offsetInFile: 32758, length: 7242, offsetInRange: 0),
            FileSpan(file: 3, offsetInFile: 0, length: 1, offsetInRange: 7242),
        ])
    }

    @Test("spans of random ranges cover the range exactly", arguments: 0..<4)
    func spansCoverRanges(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        for _ in 0..<200 {
            let lengths = (0..<Int.random(in: 1...8, using: &rng)).map { _ in Int64.random(in: 0...50_000, using: &rng) }
            let total = lengths.reduce(0, +)
            guard total > 0 else { continue }
            let g = TorrentGeometry(totalLength: total, pieceLength: 16384, fileLengths: lengths)
            let offset = Int64.random(in: 0..<total, using: &rng)
            let length = Int.random(in: 0...Int(total - offset), using: &rng)
            let spans = g.fileSpans(offset: offset, length: length)
            #expect(spans.reduce(0) { $0 + $1.length } == length)
            var expected = 0
            for span in spans {
                #expect(span.offsetInRange == expected)
                #expect(span.length > 0)
                #expect(g.fileOffsets[span.file] + span.offsetInFile == offset + Int64(expected))
                #expect(span.offsetInFile + Int64(span.length) <= lengths[span.file])
                expected += span.length
            }
        }
    }

    @Test func piecesOfAFile() {
        #expect(geometry.pieces(ofFile: 0) == 0..<1)
        #expect(geometry.pieces(ofFile: 1) == 0..<0)
        #expect(geometry.pieces(ofFile: 2) == 0..<3)
        #expect(geometry.pieces(ofFile: 3) == 2..<3)
    }
}
