/// Metadata exchange (BEP 9, `ut_metadata`): the info dictionary travels in 16 KiB pieces.
public enum MetadataMessage: Sendable, Equatable {
    case request(piece: Int)
    case data(piece: Int, totalSize: Int, bytes: [UInt8])
    case reject(piece: Int)

    public static let pieceSize = 16 * 1024

    public var encoded: [UInt8] {
        switch self {
        case .request(let piece):
            return BencodeEncoder.encode(.dict(["msg_type": .integer(0), "piece": .integer(Int64(piece))]))
        case .data(let piece, let totalSize, let bytes):
            return BencodeEncoder.encode(.dict(["msg_type": .integer(1), "piece": .integer(Int64(piece)),
                                                "total_size": .integer(Int64(totalSize))])) + bytes
        case .reject(let piece):
            return BencodeEncoder.encode(.dict(["msg_type": .integer(2), "piece": .integer(Int64(piece))]))
        }
    }

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// The dictionary comes first; for `data`, the piece's bytes follow it.
    public init(parsing payload: [UInt8]) throws(ParseError) {
        let node: BencodeNode
        let end: Int
        do {
            (node, end) = try BencodeDecoder(limits: .init(maxDepth: 2, maxInputSize: 64 << 10)).decodePrefix(payload)
        } catch {
            throw ParseError(description: "ut_metadata: \(error.description)")
        }
        guard let type = node["msg_type"]?.integer, let piece = node["piece"]?.integer, piece >= 0,
            piece < Int64(ExtensionHandshake.maxMetadataSize / Self.pieceSize)
        else { throw ParseError(description: "ut_metadata: missing or bad msg_type/piece") }
        switch type {
        case 0: self = .request(piece: Int(piece))
        case 1:
            guard let total = node["total_size"]?.integer, total > 0, total <= Int64(ExtensionHandshake.maxMetadataSize) else {
                throw ParseError(description: "ut_metadata: bad total_size")
            }
            let bytes = Array(payload[end...])
            guard bytes.count <= Self.pieceSize else { throw ParseError(description: "ut_metadata: piece of \(bytes.count) bytes") }
            self = .data(piece: Int(piece), totalSize: Int(total), bytes: bytes)
        case 2: self = .reject(piece: Int(piece))
        default: throw ParseError(description: "ut_metadata: unknown msg_type \(type)")
        }
    }

    public static func pieceCount(totalSize: Int) -> Int { (totalSize + pieceSize - 1) / pieceSize }
}

/// Collects an info dictionary piece by piece from whoever has it, and accepts it only when its
/// SHA-1 is the info-hash. Pure: the caller sends the requests it hands out.
public struct MetadataAssembler: Sendable {
    public let infoHash: InfoHash
    /// A v2-only magnet's SHA-256 info-hash (BEP 52): the dictionary must hash to it instead.
    public let v2Hash: [UInt8]?
    public private(set) var totalSize: Int?
    private var pieces: [[UInt8]?] = []
    /// Which peer (by key) was asked for each missing piece, and which sent each piece held.
    private var askedOf: [Int: Int] = [:]
    private var sources: [Int: Int] = [:]
    /// After a failed round with pieces from several peers, each round takes every piece from
    /// one peer, so a liar is caught by name.
    public private(set) var singleSource = false

    public init(infoHash: InfoHash, v2Hash: [UInt8]? = nil) {
        self.infoHash = infoHash
        self.v2Hash = v2Hash
    }

    /// A peer told us the size in its extension handshake. The first plausible size wins; a
    /// peer whose size disagrees is not asked.
    @discardableResult
    public mutating func learnSize(_ size: Int) -> Bool {
        guard size > 0, size <= ExtensionHandshake.maxMetadataSize else { return false }
        if let totalSize { return totalSize == size }
        totalSize = size
        pieces = [[UInt8]?](repeating: nil, count: MetadataMessage.pieceCount(totalSize: size))
        return true
    }

    /// Pieces to ask `peer` for now (at most `limit`), none already asked of another peer.
    public mutating func requests(for peer: Int, limit: Int = 2) -> [Int] {
        guard totalSize != nil else { return [] }
        if singleSource, askedOf.values.contains(where: { $0 != peer }) || sources.values.contains(where: { $0 != peer }) {
            return []
        }
        var out: [Int] = []
        for index in pieces.indices where pieces[index] == nil && askedOf[index] == nil && out.count < limit {
            askedOf[index] = peer
            out.append(index)
        }
        return out
    }

    /// The peer left or refused: its pieces go back to the pool.
    public mutating func release(_ peer: Int) {
        askedOf = askedOf.filter { $0.value != peer }
        // In single-source rounds a departed peer's pieces go too: the next peer starts afresh.
        if singleSource, sources.values.contains(peer) {
            for (piece, source) in sources where source == peer { pieces[piece] = nil }
            sources = sources.filter { $0.value != peer }
        }
    }

    public enum Outcome: Sendable, Equatable {
        case needMore
        /// The whole dictionary, verified.
        case complete([UInt8])
        /// The pieces did not hash to the info-hash: everything is asked again.
        case hashMismatch
        /// Every piece came from this peer and they did not hash to the info-hash.
        case liar(Int)
        case rejected(String)
    }

    public mutating func receive(piece: Int, totalSize: Int, bytes: [UInt8], from peer: Int) -> Outcome {
        guard self.totalSize == totalSize, pieces.indices.contains(piece), askedOf[piece] == peer else {
            return .rejected("unrequested or inconsistent metadata piece \(piece)")
        }
        let expected = piece == pieces.count - 1 ? totalSize - piece * MetadataMessage.pieceSize : MetadataMessage.pieceSize
        guard bytes.count == expected else { return .rejected("metadata piece \(piece) has \(bytes.count) bytes, expected \(expected)") }
        pieces[piece] = bytes
        askedOf[piece] = nil
        sources[piece] = peer
        guard pieces.allSatisfy({ $0 != nil }) else { return .needMore }
        let whole = pieces.flatMap { $0! }
        let matches = v2Hash.map { MerkleTree.hash(whole) == $0 } ?? (InfoHash(hashingInfo: whole) == infoHash)
        guard matches else {
            let contributors = Set(sources.values)
            pieces = pieces.map { _ in nil }
            sources = [:]
            askedOf = [:]
            if contributors.count == 1, let liar = contributors.first { return .liar(liar) }
            singleSource = true
            return .hashMismatch
        }
        return .complete(whole)
    }
}
