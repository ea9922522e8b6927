/// A v2 magnet's second step (BEP 52): the info dictionary holds each file's root but not its
/// piece layer, which peers send in answer to `hash request`s. Each file larger than a piece is
/// asked for in runs of up to 512 hashes with the uncle hashes up to its root, so every answer
/// is checked on arrival against the root the verified info dictionary gave. Pure: the caller
/// sends the requests it hands out.
public struct PieceLayerAssembler: Sendable {
    struct File {
        let root: [UInt8]
        let pieces: Int
        var layer: [[UInt8]?]
    }

    public static let maxHashesPerRequest = 512
    private var files: [File]
    private let pieceLevel: Int
    /// Who was asked for each request still out.
    private var askedOf: [HashRequest: Int] = [:]

    /// The layers `info` needs: one per file of more than one piece.
    public init(info: InfoDictionary) {
        let pieceLength = Int64(info.pieceLength)
        pieceLevel = (info.pieceLength / MerkleTree.blockSize).trailingZeroBitCount
        files = (info.v2?.files ?? []).compactMap { file in
            guard let root = file.piecesRoot, file.length > pieceLength else { return nil }
            let pieces = Int((file.length + pieceLength - 1) / pieceLength)
            return File(root: root, pieces: pieces, layer: Array(repeating: nil, count: pieces))
        }
    }

    public var isComplete: Bool { files.allSatisfy { $0.layer.allSatisfy { $0 != nil } } }

    /// Requests for `peer` now: those nobody else was asked, at most `limit`.
    public mutating func requests(for peer: Int, limit: Int = 8) -> [HashRequest] {
        var out: [HashRequest] = []
        for file in files {
            let width = MerkleTree.nextPowerOfTwo(file.pieces)
            let length = min(Self.maxHashesPerRequest, width)
            let height = width.trailingZeroBitCount
            for index in stride(from: 0, to: file.pieces, by: length) where out.count < limit {
                guard file.layer[index] == nil else { continue }
                let request = HashRequest(piecesRoot: file.root, baseLayer: pieceLevel, index: index, length: length,
                                          proofLayers: height - length.trailingZeroBitCount)
                guard askedOf[request] == nil else { continue }
                askedOf[request] = peer
                out.append(request)
            }
        }
        return out
    }

    public enum Outcome: Sendable, Equatable {
        case needMore
        case complete
        /// Not asked of this peer, or hashes that do not prove out against the root.
        case bad(String)
    }

    public mutating func received(_ request: HashRequest, hashes bytes: [UInt8], from peer: Int) -> Outcome {
        guard askedOf[request] == peer, let fileIndex = files.firstIndex(where: { $0.root == request.piecesRoot }) else {
            return .bad("sent hashes we did not ask it for")
        }
        askedOf[request] = nil
        guard bytes.count == (request.length + request.proofLayers) * 32 else {
            return .bad("sent \(bytes.count / 32) hashes for a request of \(request.length) and \(request.proofLayers) proof layers")
        }
        let hashes = stride(from: 0, to: bytes.count, by: 32).map { Array(bytes[$0..<$0 + 32]) }
        let proved = MerkleTree.provedRoot(Array(hashes.prefix(request.length)), index: request.index, uncles: hashes.dropFirst(request.length),
                                           pad: MerkleTree.padHash(levels: pieceLevel))
        guard proved == request.piecesRoot else { return .bad("sent piece hashes that do not hash up to the file's root") }
        let pieces = files[fileIndex].pieces
        for (offset, hash) in hashes.prefix(request.length).enumerated() where request.index + offset < pieces {
            files[fileIndex].layer[request.index + offset] = hash
        }
        return isComplete ? .complete : .needMore
    }

    /// A peer refused or left: what it was asked goes back to the pool.
    public mutating func release(_ peer: Int) {
        askedOf = askedOf.filter { $0.value != peer }
    }

    /// The layers as a torrent file's `piece layers` value.
    public var encodedLayers: [UInt8] {
        var dict: [[UInt8]: BencodeValue] = [:]
        for file in files { dict[file.root] = .bytes(Array(file.layer.compactMap { $0 }.joined())) }
        return BencodeEncoder.encode(.dictionary(dict))
    }
}
