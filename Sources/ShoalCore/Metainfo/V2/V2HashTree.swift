/// One file's hash tree from its piece layer up to its root (BEP 52), to answer peers' `hash
/// request`s: the piece-layer hashes asked for, then the uncle hashes that prove them against
/// the root. Levels count up from the 16 KiB leaves (0); the piece layer is `log2(blocks per
/// piece)`. Nodes past the file's end are the hashes of all-zero subtrees.
public struct V2HashTree: Sendable {
    /// `levels[k]`: the real nodes at level `pieceLevel + k`; the last holds the root.
    private let levels: [[[UInt8]]]
    public let pieceLevel: Int

    public init(pieceLayer: [[UInt8]], blocksPerPiece: Int) {
        pieceLevel = blocksPerPiece.trailingZeroBitCount
        var levels = [pieceLayer]
        var pad = MerkleTree.padHash(levels: pieceLevel)
        var width = MerkleTree.nextPowerOfTwo(pieceLayer.count)
        while width > 1 {
            let below = levels[levels.count - 1]
            levels.append(stride(from: 0, to: below.count, by: 2).map {
                MerkleTree.parent(below[$0], $0 + 1 < below.count ? below[$0 + 1] : pad)
            })
            pad = MerkleTree.parent(pad, pad)
            width /= 2
        }
        self.levels = levels
    }

    /// The level of the root.
    public var rootLevel: Int { pieceLevel + levels.count - 1 }
    public var root: [UInt8] { levels[levels.count - 1][0] }

    /// The node at `level` (at or above the piece layer), `index` from the left.
    func node(level: Int, index: Int) -> [UInt8] {
        let nodes = levels[level - pieceLevel]
        return index < nodes.count ? nodes[index] : MerkleTree.padHash(levels: level)
    }

    /// The answer to a request for `length` piece-layer hashes from `index`, with `proofLayers`
    /// uncles: the hashes, then the uncles from the lowest up. nil when it cannot be answered
    /// (another base layer, a length that is not a power of two or over 512, out of range).
    public func answer(baseLayer: Int, index: Int, length: Int, proofLayers: Int) -> [UInt8]? {
        let width = 1 << (rootLevel - pieceLevel)
        guard baseLayer == pieceLevel, length >= 1, length <= 512, length & (length - 1) == 0, index >= 0, index % length == 0,
            index + length <= width, proofLayers >= 0
        else { return nil }
        var out: [UInt8] = []
        for position in index..<index + length { out += node(level: pieceLevel, index: position) }
        // Uncles of the subtree the hashes span, up to the root at most.
        let top = pieceLevel + length.trailingZeroBitCount
        var position = index / length
        var level = top
        while level < rootLevel && level - top < proofLayers {
            out += node(level: level, index: position ^ 1)
            position /= 2
            level += 1
        }
        return out
    }

    /// The answer to a request for block hashes (base layer 0) within one piece, `piece` of the
    /// file, whose 16 KiB blocks hash to `leaves` (zeros past the file's end): the hashes, then
    /// uncles from inside the piece and above it. nil when the request is not within one piece.
    public func answerBlocks(index: Int, length: Int, proofLayers: Int, piece: Int, leaves: [[UInt8]]) -> [UInt8]? {
        let perPiece = 1 << pieceLevel
        guard leaves.count == perPiece, length >= 1, length <= perPiece, length & (length - 1) == 0, index >= 0,
            index % length == 0, index / perPiece == piece, proofLayers >= 0
        else { return nil }
        let first = index - piece * perPiece
        var out: [UInt8] = []
        for leaf in leaves[first..<first + length] { out += leaf }
        var level = length.trailingZeroBitCount
        var position = index >> level
        while level < rootLevel && level - length.trailingZeroBitCount < proofLayers {
            let sibling = position ^ 1
            if level < pieceLevel {
                // Inside the piece: the sibling subtree's root from its leaves.
                let start = (sibling << level) - piece * perPiece
                out += MerkleTree.root(Array(leaves[start..<start + (1 << level)]), width: 1 << level, pad: MerkleTree.zero)
            } else {
                out += node(level: level, index: sibling)
            }
            position /= 2
            level += 1
        }
        return out
    }
}
