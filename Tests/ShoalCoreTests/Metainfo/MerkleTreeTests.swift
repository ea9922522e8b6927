import Crypto
import ShoalCore
import Testing

/// BEP 52's hash trees: byte vectors, and the two ways to a file's root agreeing.
@Suite("Merkle trees")
struct MerkleTreeTests {
    func sha256(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }

    @Test func smallFilesAreTheirBlocksHashedUp() {
        let one = [UInt8](repeating: 7, count: 300)
        #expect(MerkleTree.root(ofData: one, leaves: 1) == sha256(one), "one block: its hash")
        let three = (0..<40_000).map { UInt8(truncatingIfNeeded: $0) }
        let blocks = [Array(three[0..<16384]), Array(three[16384..<32768]), Array(three[32768...])].map(sha256)
        let zero = [UInt8](repeating: 0, count: 32)
        let expected = sha256(sha256(blocks[0] + blocks[1]) + sha256(blocks[2] + zero))
        #expect(MerkleTree.leaves(forLength: 40_000) == 4)
        #expect(MerkleTree.root(ofData: three, leaves: 4) == expected, "three blocks and a zero leaf")
    }

    @Test func padHashesAreTreesOfZeroLeaves() {
        let zero = [UInt8](repeating: 0, count: 32)
        #expect(MerkleTree.padHash(levels: 0) == zero)
        #expect(MerkleTree.padHash(levels: 2) == sha256(sha256(zero + zero) + sha256(zero + zero)))
    }

    /// A file's root from its blocks equals the root from its piece layer, for any size and
    /// piece length: what checking pieces against a layer relies on.
    @Test func aFilesRootFromBlocksAndFromItsPieceLayerAgree() {
        var rng = SplitMix64(seed: 52)
        for _ in 0..<40 {
            let pieceLength = 16384 << Int.random(in: 0...3, using: &rng)
            let length = Int.random(in: pieceLength + 1...pieceLength * 9, using: &rng)
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let blocksPerPiece = pieceLength / 16384
            let layer = stride(from: 0, to: length, by: pieceLength).map {
                MerkleTree.root(ofData: data[$0..<min(length, $0 + pieceLength)], leaves: blocksPerPiece)
            }
            #expect(MerkleTree.root(ofData: data, leaves: MerkleTree.leaves(forLength: Int64(length)))
                    == MerkleTree.root(pieceLayer: layer, blocksPerPiece: blocksPerPiece), "\(length) bytes, \(pieceLength)-byte pieces")
        }
    }
}
