import Synchronization

/// What each piece of a v2-only torrent must hash to (BEP 52), from its files' `pieces root`s and
/// the torrent's `piece layers`: a piece of a file larger than a piece is one node of that file's
/// piece layer, over `pieceLength / 16 KiB` leaves; a file of at most one piece is its own root,
/// over its blocks rounded up to a power of two. A piece holds one file's bytes, then padding.
public struct V2PieceHashes: Sendable {
    /// 32 bytes per piece.
    private let expected: [UInt8]
    /// Per piece: its file's bytes in it, and the leaves of its tree.
    private let dataLengths: [Int32]
    private let leaves: [Int32]
    /// Each file of more than one piece: its pieces, by its root (to answer hash requests).
    private let fileRanges: [[UInt8]: Range<Int>]
    private let pieceLength: Int
    private let trees = TreeCache()

    /// The files of a layout `InfoDictionary.v2Layout` made, with `layers` by pieces root (each
    /// already checked against its root); nil names the first file larger than a piece
    /// without a layer.
    static func make(files: [TorrentFile], v2: [V2File], layers: [[UInt8]: [[UInt8]]], pieceLength: Int,
                     pieceCount: Int) -> Result<V2PieceHashes, MissingLayer> {
        var expected = [UInt8](repeating: 0, count: pieceCount * 32)
        var dataLengths = [Int32](repeating: 0, count: pieceCount)
        var leaves = [Int32](repeating: 1, count: pieceCount)
        let blocksPerPiece = pieceLength / MerkleTree.blockSize
        var v2Index = 0
        var fileRanges: [[UInt8]: Range<Int>] = [:]
        for file in files where !file.isPadding {
            let described = v2[v2Index]
            v2Index += 1
            guard file.length > 0, let root = described.piecesRoot else { continue }
            let first = Int(file.offset / Int64(pieceLength))
            let count = Int((file.length + Int64(pieceLength) - 1) / Int64(pieceLength))
            let hashes: [[UInt8]]
            if count == 1 {
                hashes = [root]
                leaves[first] = Int32(MerkleTree.leaves(forLength: file.length))
            } else {
                guard let layer = layers[root] else { return .failure(MissingLayer(path: file.displayPath)) }
                hashes = layer
                fileRanges[root] = first..<first + count
                for piece in first..<first + count { leaves[piece] = Int32(blocksPerPiece) }
            }
            for (n, hash) in hashes.enumerated() {
                let piece = first + n
                expected.replaceSubrange(piece * 32..<piece * 32 + 32, with: hash)
                dataLengths[piece] = Int32(min(Int64(pieceLength), file.length - Int64(n) * Int64(pieceLength)))
            }
        }
        return .success(V2PieceHashes(expected: expected, dataLengths: dataLengths, leaves: leaves, fileRanges: fileRanges,
                                      pieceLength: pieceLength))
    }

    public struct MissingLayer: Error, Sendable, Equatable {
        public let path: String
    }

    /// Whether `data` (the piece as stored: its file's bytes, then padding zeros) is the piece.
    public func matches(_ data: [UInt8], piece: PieceIndex) -> Bool {
        let index = piece.value
        let length = Int(dataLengths[index])
        guard data.count >= length else { return false }
        let root = MerkleTree.root(ofData: data[0..<length], leaves: Int(leaves[index]))
        return root[...] == expected[index * 32..<index * 32 + 32]
    }
}

extension V2PieceHashes {
    /// The tree of the file whose root is `root` (more than one piece), made once.
    public func tree(forRoot root: [UInt8]) -> V2HashTree? {
        guard let range = fileRanges[root] else { return nil }
        if let tree = trees.value.withLock({ $0[root] }) { return tree }
        let layer = range.map { Array(expected[$0 * 32..<$0 * 32 + 32]) }
        let tree = V2HashTree(pieceLayer: layer, blocksPerPiece: pieceLength / MerkleTree.blockSize)
        trees.value.withLock { $0[root] = tree }
        return tree
    }

    /// The answer to a peer's `hash request`: the hashes and their proof, or a refusal. Block
    /// hashes (base layer 0) within one piece are answered from the piece's data, which
    /// `pieceData` reads (nil: we do not have it).
    public func answer(_ request: HashRequest, pieceData: (PieceIndex) -> [UInt8]? = { _ in nil }) -> PeerMessage {
        guard let tree = tree(forRoot: request.piecesRoot) else { return .hashReject(request) }
        if request.baseLayer == 0 && tree.pieceLevel > 0 {
            let perPiece = 1 << tree.pieceLevel
            let pieceInFile = request.index / perPiece
            guard let range = fileRanges[request.piecesRoot], pieceInFile < range.count,
                case let piece = PieceIndex(uncheckedValue: range.lowerBound + pieceInFile),
                let data = pieceData(piece),
                let hashes = tree.answerBlocks(index: request.index, length: request.length, proofLayers: request.proofLayers,
                                               piece: pieceInFile, leaves: leaves(of: data, piece: piece))
            else { return .hashReject(request) }
            return .hashes(request, hashes: hashes)
        }
        guard let hashes = tree.answer(baseLayer: request.baseLayer, index: request.index, length: request.length,
                                       proofLayers: request.proofLayers)
        else { return .hashReject(request) }
        return .hashes(request, hashes: hashes)
    }

    /// The hashes of a piece's 16 KiB blocks as stored (its file's bytes, then zeros past the
    /// file's end), `pieceLength / 16 KiB` of them.
    public func leaves(of data: [UInt8], piece: PieceIndex) -> [[UInt8]] {
        var out = MerkleTree.blockHashes(data[..<min(data.count, Int(dataLengths[piece.value]))])
        while out.count < pieceLength / MerkleTree.blockSize { out.append(MerkleTree.zero) }
        return out
    }

    /// The torrent's first piece of the file whose root is `root` (files of more than one piece).
    public func firstPiece(ofRoot root: [UInt8]) -> Int? { fileRanges[root]?.lowerBound }

    /// For blaming a failed piece block by block: the request for its blocks' hashes (nil for a
    /// piece of a file of one piece, whose tree is not kept).
    public func blockHashRequest(for piece: PieceIndex) -> HashRequest? {
        let perPiece = pieceLength / MerkleTree.blockSize
        guard perPiece > 1, let (root, range) = fileRanges.first(where: { $0.value.contains(piece.value) }) else { return nil }
        return HashRequest(piecesRoot: root, baseLayer: 0, index: (piece.value - range.lowerBound) * perPiece, length: perPiece,
                           proofLayers: 0)
    }

    /// The blocks of `data` (a failed copy of `piece`) that differ from what `hashes`, an answer
    /// to `blockHashRequest`, says; nil when the answer does not hash to the piece's own hash.
    public func badBlocks(in data: [UInt8], piece: PieceIndex, answer hashes: [UInt8]) -> [Int]? {
        let perPiece = pieceLength / MerkleTree.blockSize
        guard hashes.count == perPiece * 32 else { return nil }
        let told = stride(from: 0, to: hashes.count, by: 32).map { Array(hashes[$0..<$0 + 32]) }
        guard MerkleTree.root(told, width: perPiece, pad: MerkleTree.zero)[...] == expected[piece.value * 32..<piece.value * 32 + 32]
        else { return nil }
        return zip(leaves(of: data, piece: piece), told).enumerated().compactMap { $1.0 != $1.1 ? $0 : nil }
    }
}

/// Trees made for hash requests, shared by the copies of a torrent's `V2PieceHashes`.
final class TreeCache: Sendable {
    let value = Mutex<[[UInt8]: V2HashTree]>([:])
}
