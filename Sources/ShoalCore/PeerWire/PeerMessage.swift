/// A peer wire message (BEP 3), after framing. Indices are raw wire values: the receiver checks
/// them against its torrent's geometry before use.
public enum PeerMessage: Sendable, Equatable {
    case keepAlive
    case choke
    case unchoke
    case interested
    case notInterested
    case have(piece: Int)
    case bitfield([UInt8])
    case request(piece: Int, offset: Int, length: Int)
    case piece(piece: Int, offset: Int, data: [UInt8])
    case cancel(piece: Int, offset: Int, length: Int)
    case port(UInt16)
    // The fast extension (BEP 6).
    case suggest(piece: Int)
    case haveAll
    case haveNone
    case reject(piece: Int, offset: Int, length: Int)
    case allowedFast(piece: Int)
    /// The extension protocol (BEP 10): id 0 is the extension handshake, others are the ids
    /// the receiver gave its extensions in its own handshake.
    case extended(id: UInt8, payload: [UInt8])
    // BitTorrent v2 (BEP 52): hashes of a file's tree, asked for, given, or refused.
    case hashRequest(HashRequest)
    /// The hashes asked for, then their proof: 32 bytes each, concatenated.
    case hashes(HashRequest, hashes: [UInt8])
    case hashReject(HashRequest)
    /// A message id this version does not handle; ignored as BEP 3 asks.
    case unknown(id: UInt8, payload: [UInt8])

    enum ID: UInt8 {
        case choke = 0, unchoke, interested, notInterested, have, bitfield, request, piece, cancel, port
        case suggest = 13, haveAll, haveNone, reject, allowedFast
        case extended = 20
        case hashRequest = 21, hashes, hashReject
    }

    /// Appends the length-prefixed frame.
    public func encode(into out: inout [UInt8]) {
        func header(_ id: ID, payload: Int) {
            out.appendBigEndian(UInt32(1 + payload))
            out.append(id.rawValue)
        }
        switch self {
        case .keepAlive: out.appendBigEndian(UInt32(0))
        case .choke: header(.choke, payload: 0)
        case .unchoke: header(.unchoke, payload: 0)
        case .interested: header(.interested, payload: 0)
        case .notInterested: header(.notInterested, payload: 0)
        case .have(let piece):
            header(.have, payload: 4)
            out.appendBigEndian(UInt32(piece))
        case .bitfield(let bytes):
            header(.bitfield, payload: bytes.count)
            out.append(contentsOf: bytes)
        case .request(let piece, let offset, let length), .cancel(let piece, let offset, let length),
            .reject(let piece, let offset, let length):
            switch self {
            case .request: header(.request, payload: 12)
            case .cancel: header(.cancel, payload: 12)
            default: header(.reject, payload: 12)
            }
            out.appendBigEndian(UInt32(piece))
            out.appendBigEndian(UInt32(offset))
            out.appendBigEndian(UInt32(length))
        case .piece(let piece, let offset, let data):
            header(.piece, payload: 8 + data.count)
            out.appendBigEndian(UInt32(piece))
            out.appendBigEndian(UInt32(offset))
            out.append(contentsOf: data)
        case .port(let port):
            header(.port, payload: 2)
            out.append(UInt8(port >> 8))
            out.append(UInt8(port & 0xFF))
        case .suggest(let piece), .allowedFast(let piece):
            header(self == .suggest(piece: piece) ? .suggest : .allowedFast, payload: 4)
            out.appendBigEndian(UInt32(piece))
        case .haveAll: header(.haveAll, payload: 0)
        case .haveNone: header(.haveNone, payload: 0)
        case .extended(let id, let payload):
            header(.extended, payload: 1 + payload.count)
            out.append(id)
            out.append(contentsOf: payload)
        case .hashRequest(let request):
            header(.hashRequest, payload: HashRequest.size)
            request.encode(into: &out)
        case .hashes(let request, let hashes):
            header(.hashes, payload: HashRequest.size + hashes.count)
            request.encode(into: &out)
            out.append(contentsOf: hashes)
        case .hashReject(let request):
            header(.hashReject, payload: HashRequest.size)
            request.encode(into: &out)
        case .unknown(let id, let payload):
            out.appendBigEndian(UInt32(1 + payload.count))
            out.append(id)
            out.append(contentsOf: payload)
        }
    }

    public var encoded: [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value >> 24))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    mutating func appendBigEndian(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    mutating func appendBigEndian(_ value: UInt64) {
        appendBigEndian(UInt32(truncatingIfNeeded: value >> 32))
        appendBigEndian(UInt32(truncatingIfNeeded: value))
    }
}

extension Collection where Element == UInt8, Index == Int {
    func bigEndianUInt32(at offset: Int) -> UInt32 {
        let base = startIndex + offset
        return UInt32(self[base]) << 24 | UInt32(self[base + 1]) << 16 | UInt32(self[base + 2]) << 8 | UInt32(self[base + 3])
    }

    func bigEndianUInt16(at offset: Int) -> UInt16 {
        let base = startIndex + offset
        return UInt16(self[base]) << 8 | UInt16(self[base + 1])
    }

    func bigEndianUInt64(at offset: Int) -> UInt64 {
        UInt64(bigEndianUInt32(at: offset)) << 32 | UInt64(bigEndianUInt32(at: offset + 4))
    }
}

/// What a BEP 52 `hash request`, `hashes` and `hash reject` name: `length` hashes of the tree
/// whose root is `piecesRoot`, at `baseLayer` (0: the 16 KiB blocks) from `index`, with
/// `proofLayers` layers of uncle hashes.
public struct HashRequest: Sendable, Hashable {
    public let piecesRoot: [UInt8]
    public let baseLayer: Int
    public let index: Int
    public let length: Int
    public let proofLayers: Int

    public init(piecesRoot: [UInt8], baseLayer: Int, index: Int, length: Int, proofLayers: Int) {
        self.piecesRoot = piecesRoot
        self.baseLayer = baseLayer
        self.index = index
        self.length = length
        self.proofLayers = proofLayers
    }

    static let size = 32 + 16

    func encode(into out: inout [UInt8]) {
        out.append(contentsOf: piecesRoot)
        for value in [baseLayer, index, length, proofLayers] { out.appendBigEndian(UInt32(truncatingIfNeeded: value)) }
    }
}
