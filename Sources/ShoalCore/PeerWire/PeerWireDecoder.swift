/// Turns a byte stream into peer messages, whatever the chunking of the input.
///
/// Frames longer than the cap are refused before they are buffered, so a peer cannot make us
/// allocate more than one block plus header (or one bitfield for this torrent).
public struct PeerWireDecoder: Sendable {
    public enum DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
        case frameTooLong(Int, limit: Int)
        case malformed(id: UInt8, length: Int)

        public var description: String {
            switch self {
            case .frameTooLong(let length, let limit): return "message of \(length) bytes exceeds the \(limit)-byte limit"
            case .malformed(let id, let length): return "message id \(id) with a payload of \(length) bytes is malformed"
            }
        }
    }

    /// One 16 KiB block plus the `piece` header.
    public static let blockFrameLimit = 16 * 1024 + 9
    /// An extension message: a metadata piece (16 KiB and its bencoded header) or a PEX list.
    public static let extendedFrameLimit = 16 * 1024 + 1024

    public let maxFrameLength: Int
    private var buffer: [UInt8] = []
    private var readIndex = 0

    /// `pieceCount` sizes the largest acceptable bitfield.
    public init(pieceCount: Int) {
        self.maxFrameLength = max(Self.extendedFrameLimit, 1 + (pieceCount + 7) / 8)
    }

    public init(maxFrameLength: Int) {
        self.maxFrameLength = maxFrameLength
    }

    public var bufferedByteCount: Int { buffer.count - readIndex }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if readIndex > 0 && readIndex >= buffer.count / 2 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Takes `count` raw bytes (the handshake) if they have arrived.
    public mutating func takeRaw(_ count: Int) -> [UInt8]? {
        guard bufferedByteCount >= count else { return nil }
        defer { readIndex += count }
        return Array(buffer[readIndex..<readIndex + count])
    }

    /// The next complete message, nil if more bytes are needed.
    public mutating func next() throws(DecodeError) -> PeerMessage? {
        guard bufferedByteCount >= 4 else { return nil }
        let length = Int(buffer.bigEndianUInt32(at: readIndex))
        guard length <= maxFrameLength else { throw .frameTooLong(length, limit: maxFrameLength) }
        guard bufferedByteCount >= 4 + length else { return nil }
        let start = readIndex + 4
        readIndex = start + length
        return try Self.message(buffer[start..<start + length])
    }

    /// Decodes every whole message of what is buffered followed by `bytes`, and buffers only an
    /// unfinished last frame. The receive path's way in: a block that arrives whole in one read
    /// is copied once, from the socket's buffer into its message, instead of through this
    /// decoder's buffer first (at several hundred MiB/s those copies showed in profiles).
    public mutating func decode(_ bytes: UnsafeRawBufferPointer, into messages: inout [PeerMessage]) throws(DecodeError) {
        var input = bytes[...]
        while let message = try next() { messages.append(message) }
        if bufferedByteCount > 0 {
            // Complete the frame begun in an earlier read with just the bytes it lacks.
            let header = min(max(0, 4 - bufferedByteCount), input.count)
            take(header, from: &input)
            guard bufferedByteCount >= 4 else { return }
            let length = Int(buffer.bigEndianUInt32(at: readIndex))
            guard length <= maxFrameLength else { throw .frameTooLong(length, limit: maxFrameLength) }
            take(min(4 + length - bufferedByteCount, input.count), from: &input)
            guard let message = try next() else { return }
            messages.append(message)
        }
        while input.count >= 4 {
            let length = Int(input.bigEndianUInt32(at: 0))
            guard length <= maxFrameLength else { throw .frameTooLong(length, limit: maxFrameLength) }
            guard input.count >= 4 + length else { break }
            let frame = input.startIndex + 4..<input.startIndex + 4 + length
            messages.append(try Self.message(UnsafeRawBufferPointer(rebasing: input[frame])))
            input = input[frame.upperBound...]
        }
        append(input)
    }

    private mutating func take(_ count: Int, from input: inout Slice<UnsafeRawBufferPointer>) {
        append(input.prefix(count))
        input = input.dropFirst(count)
    }

    /// A copy made with one memcpy where the bytes are contiguous (they always are here).
    private static func bytes(_ part: some Collection<UInt8>) -> [UInt8] {
        part.withContiguousStorageIfAvailable { Array($0) } ?? Array(part)
    }

    /// One frame's message, from the bytes after its length prefix.
    private static func message<Frame: Collection<UInt8>>(_ frame: Frame) throws(DecodeError) -> PeerMessage where Frame.Index == Int {
        if frame.isEmpty { return .keepAlive }
        let id = frame[frame.startIndex]
        let payload = frame.dropFirst()
        func int(_ at: Int) -> Int { Int(payload.bigEndianUInt32(at: at)) }
        func expect(_ size: Int) throws(DecodeError) {
            guard payload.count == size else { throw .malformed(id: id, length: payload.count) }
        }
        switch PeerMessage.ID(rawValue: id) {
        case .choke?: try expect(0); return .choke
        case .unchoke?: try expect(0); return .unchoke
        case .interested?: try expect(0); return .interested
        case .notInterested?: try expect(0); return .notInterested
        case .have?: try expect(4); return .have(piece: int(0))
        case .bitfield?: return .bitfield(bytes(payload))
        case .request?: try expect(12); return .request(piece: int(0), offset: int(4), length: int(8))
        case .cancel?: try expect(12); return .cancel(piece: int(0), offset: int(4), length: int(8))
        case .piece?:
            guard payload.count >= 8 else { throw .malformed(id: id, length: payload.count) }
            return .piece(piece: int(0), offset: int(4), data: bytes(payload.dropFirst(8)))
        case .port?: try expect(2); return .port(payload.bigEndianUInt16(at: 0))
        case .suggest?: try expect(4); return .suggest(piece: int(0))
        case .haveAll?: try expect(0); return .haveAll
        case .haveNone?: try expect(0); return .haveNone
        case .reject?: try expect(12); return .reject(piece: int(0), offset: int(4), length: int(8))
        case .allowedFast?: try expect(4); return .allowedFast(piece: int(0))
        case .extended?:
            guard payload.count >= 1 else { throw .malformed(id: id, length: payload.count) }
            return .extended(id: payload[payload.startIndex], payload: bytes(payload.dropFirst()))
        case .hashRequest?, .hashReject?, .hashes?:
            let size = HashRequest.size
            guard payload.count >= size, id == PeerMessage.ID.hashes.rawValue ? (payload.count - size) % 32 == 0 : payload.count == size else {
                throw .malformed(id: id, length: payload.count)
            }
            let request = HashRequest(piecesRoot: bytes(payload.prefix(32)), baseLayer: int(32), index: int(36), length: int(40),
                                      proofLayers: int(44))
            switch PeerMessage.ID(rawValue: id) {
            case .hashRequest?: return .hashRequest(request)
            case .hashReject?: return .hashReject(request)
            default: return .hashes(request, hashes: bytes(payload.dropFirst(size)))
            }
        case nil: return .unknown(id: id, payload: bytes(payload))
        }
    }
}
