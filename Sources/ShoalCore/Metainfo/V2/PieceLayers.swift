/// A torrent's `piece layers` (BEP 52, outside `info`): for each file larger than a piece, the
/// hashes of its pieces, which must hash up to the file's `pieces root`.
///
/// As libtorrent 2.0 reads them: a layer that is not a string of whole hashes, or of the wrong
/// count for its file, refuses the torrent; one that does not hash to its root, or names no
/// file, is left out (the hashes would then come from peers).
enum PieceLayers {
    static func parse(_ node: BencodeNode?, files: [V2File], pieceLength: Int) throws(MetainfoError) -> [[UInt8]: [[UInt8]]] {
        guard let node else { return [:] }
        guard let entries = node.entries else { throw MetainfoError("'piece layers' must be a dictionary", at: node.range.lowerBound) }
        var lengths: [[UInt8]: Int64] = [:]
        for file in files { if let root = file.piecesRoot { lengths[root] = file.length } }
        var layers: [[UInt8]: [[UInt8]]] = [:]
        for entry in entries {
            let at = entry.value.range.lowerBound
            guard let bytes = entry.value.bytes, bytes.count % 32 == 0 else {
                throw MetainfoError("a piece layer is not a string of 32-byte hashes", at: at)
            }
            guard let length = lengths[entry.key], length > Int64(pieceLength) else { continue }
            let pieces = Int((length + Int64(pieceLength) - 1) / Int64(pieceLength))
            guard bytes.count == pieces * 32 else {
                throw MetainfoError("a piece layer holds \(bytes.count / 32) hashes for a file of \(pieces) pieces", at: at)
            }
            let hashes = stride(from: 0, to: bytes.count, by: 32).map { Array(bytes[$0..<$0 + 32]) }
            guard MerkleTree.root(pieceLayer: hashes, blocksPerPiece: pieceLength / MerkleTree.blockSize) == entry.key else { continue }
            layers[entry.key] = hashes
        }
        return layers
    }
}

extension Metainfo {
    /// A hybrid's second name (BEP 52): its SHA-256 info-hash cut to 20 bytes, which peers that
    /// know only its v2 half handshake and announce with. nil for v1 and v2-only torrents.
    public var hybridV2Alias: InfoHash? {
        guard info.v2?.isOnly == false, let infoHashV2 else { return nil }
        return InfoHash(bytes: infoHashV2.prefix(20))
    }

    /// Sets how a v2-only torrent's pieces are checked, or which file lacks its layer.
    mutating func attach(_ layers: [[UInt8]: [[UInt8]]]) {
        guard let v2 = info.v2 else { return }
        switch V2PieceHashes.make(files: info.files, v2: v2.files, layers: layers, pieceLength: info.pieceLength,
                                  pieceCount: info.pieceCount) {
        case .success(let hashes): info.v2Pieces = hashes
        // A hybrid is checked by its v1 hashes: without layers it only cannot answer hash requests.
        case .failure(let missing): if v2.isOnly { missingPieceLayer = missing.path }
        }
    }
}

extension Metainfo {
    /// A v2 magnet's torrent: the info dictionary and the piece layers its peers sent, with the
    /// magnet's trackers.
    public init(rawInfo: [UInt8], pieceLayers: [UInt8], trackerTiers: [[String]]) throws(MetainfoError) {
        let root = MetainfoBuilder.outerFields(trackerTiers: trackerTiers, comment: nil, createdBy: nil, creationDate: nil)
        var bytes = BencodeEncoder.encode(.dict(root))
        bytes.removeLast()
        bytes += Array("4:info".utf8) + rawInfo + Array("12:piece layers".utf8) + pieceLayers + [UInt8(ascii: "e")]
        try self.init(bytes: bytes)
    }
}

extension Metainfo {
    /// This torrent with the piece layers its peers sent in place of its own (missing or not
    /// matching its roots): trackers, web seeds and the descriptive fields kept.
    public func withPieceLayers(_ pieceLayers: [UInt8]) throws(MetainfoError) -> Metainfo {
        try Metainfo(bytes: fileBytes(pieceLayers: pieceLayers))
    }
}
