import Crypto

/// BitTorrent v2's hash trees (BEP 52): SHA-256 over 16 KiB blocks, pairs hashed up to one root,
/// leaves past the end of a file all zeros.
public enum MerkleTree {
    public static let blockSize = 16 << 10
    public static let zero = [UInt8](repeating: 0, count: 32)

    public static func hash(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var hasher = SHA256()
        if let contiguous = bytes as? [UInt8] { hasher.update(data: contiguous) } else { hasher.update(data: Array(bytes)) }
        return Array(hasher.finalize())
    }

    public static func parent(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// The root of a tree of `2^levels` zero leaves: what stands for a piece past a file's end.
    public static func padHash(levels: Int) -> [UInt8] {
        var node = zero
        for _ in 0..<max(0, levels) { node = parent(node, node) }
        return node
    }

    /// The root over `nodes`, padded with `pad` to `width` (a power of two at least `nodes.count`).
    public static func root(_ nodes: [[UInt8]], width: Int, pad: [UInt8]) -> [UInt8] {
        var layer = nodes
        var padding = pad
        var size = max(1, width)
        while size > 1 {
            var next: [[UInt8]] = []
            next.reserveCapacity(size / 2)
            for index in stride(from: 0, to: size, by: 2) {
                let left = index < layer.count ? layer[index] : padding
                let right = index + 1 < layer.count ? layer[index + 1] : padding
                if index >= layer.count { break }  // the rest is all padding: `padding` one level up
                next.append(parent(left, right))
            }
            layer = next
            padding = parent(padding, padding)
            size /= 2
        }
        return layer.first ?? padding
    }

    /// The root of `data` cut into 16 KiB blocks, over `leaves` leaves: a piece of a larger file
    /// (`leaves` = blocks per piece), or all of a file of at most one piece (the blocks rounded up
    /// to a power of two).
    public static func root(ofData data: some Collection<UInt8>, leaves: Int) -> [UInt8] {
        root(blockHashes(Array(data)), width: leaves, pad: zero)
    }

    /// The hashes of `data`'s 16 KiB blocks, the last one short.
    public static func blockHashes(_ data: ArraySlice<UInt8>) -> [[UInt8]] {
        stride(from: data.startIndex, to: data.endIndex, by: blockSize).map { hash(data[$0..<min(data.endIndex, $0 + blockSize)]) }
    }

    public static func blockHashes(_ data: [UInt8]) -> [[UInt8]] { blockHashes(data[...]) }

    /// The root that `nodes` (a run of `nodes.count` nodes from `index`, past the file's end
    /// `pad`) and their `uncles`, lowest first, hash up to: what an answer to a hash request
    /// proves, to be compared with a root the caller trusts.
    public static func provedRoot(_ nodes: [[UInt8]], index: Int, uncles: some Sequence<[UInt8]>, pad: [UInt8]) -> [UInt8] {
        var node = root(nodes, width: nodes.count, pad: pad)
        var position = index / max(1, nodes.count)
        for uncle in uncles {
            node = position % 2 == 0 ? parent(node, uncle) : parent(uncle, node)
            position /= 2
        }
        return node
    }

    /// A file's pieces root from its piece layer (one hash per piece).
    public static func root(pieceLayer: [[UInt8]], blocksPerPiece: Int) -> [UInt8] {
        root(pieceLayer, width: nextPowerOfTwo(pieceLayer.count), pad: padHash(levels: blocksPerPiece.trailingZeroBitCount))
    }

    /// Leaves in the tree of a file of `length` bytes (at most one piece): its blocks, rounded up
    /// to a power of two.
    public static func leaves(forLength length: Int64) -> Int {
        nextPowerOfTwo(Int((length + Int64(blockSize) - 1) / Int64(blockSize)))
    }

    public static func nextPowerOfTwo(_ value: Int) -> Int {
        value <= 1 ? 1 : 1 << (Int.bitWidth - (value - 1).leadingZeroBitCount)
    }
}
