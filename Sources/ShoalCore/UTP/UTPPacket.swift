/// One uTP datagram (BEP 29): the 20-byte header, its extension chain (only selective ACK is
/// understood; others are skipped) and the payload. All fields are big-endian on the wire.
public struct UTPPacket: Sendable, Equatable {
    public enum Kind: UInt8, Sendable, CaseIterable {
        case data = 0, fin = 1, state = 2, reset = 3, syn = 4
    }

    public var kind: Kind
    /// The receiver's id for this connection (a SYN carries the sender's own receive id).
    public var connectionID: UInt16
    /// The sender's clock when it sent the packet, in microseconds (any epoch, wrapping).
    public var timestamp: UInt32
    /// The sender's clock at its last receipt minus that packet's `timestamp`: the one-way delay
    /// of our packets plus a clock offset, which LEDBAT compares against its lowest.
    public var timestampDifference: UInt32
    /// Bytes the sender can still take in (its receive window).
    public var window: UInt32
    public var sequence: UInt16
    /// The last packet the sender received in order.
    public var ack: UInt16
    /// Selective ACK (extension 1): bit i (least significant bit of each byte first) says packet
    /// `ack + 2 + i` was received. Ours are a multiple of four bytes; any length is read.
    public var selectiveAck: [UInt8]?
    public var payload: [UInt8]

    public static let headerSize = 20
    public static let version: UInt8 = 1

    public init(kind: Kind, connectionID: UInt16, timestamp: UInt32 = 0, timestampDifference: UInt32 = 0, window: UInt32 = 0,
                sequence: UInt16, ack: UInt16, selectiveAck: [UInt8]? = nil, payload: [UInt8] = []) {
        self.kind = kind
        self.connectionID = connectionID
        self.timestamp = timestamp
        self.timestampDifference = timestampDifference
        self.window = window
        self.sequence = sequence
        self.ack = ack
        self.selectiveAck = selectiveAck
        self.payload = payload
    }

    public struct DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// A datagram that looks like uTP rather than the DHT's bencoded KRPC (which starts with 'd'):
    /// version 1 in the low nibble of the first byte, a known type in the high one. For the UDP
    /// socket the two share.
    public static func looksLikeUTP(_ first: UInt8) -> Bool {
        first & 0x0F == version && Kind(rawValue: first >> 4) != nil
    }

    public init(decoding bytes: some Collection<UInt8>) throws(DecodeError) {
        let bytes = Array(bytes)
        guard bytes.count >= Self.headerSize else { throw DecodeError(description: "\(bytes.count) bytes: shorter than a uTP header") }
        guard bytes[0] & 0x0F == Self.version else { throw DecodeError(description: "uTP version \(bytes[0] & 0x0F), not 1") }
        guard let kind = Kind(rawValue: bytes[0] >> 4) else { throw DecodeError(description: "unknown uTP packet type \(bytes[0] >> 4)") }
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }
        func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) << 16 | UInt32(u16(at + 2)) }
        self.kind = kind
        connectionID = u16(2)
        timestamp = u32(4)
        timestampDifference = u32(8)
        window = u32(12)
        sequence = u16(16)
        ack = u16(18)
        selectiveAck = nil
        var next = bytes[1]
        var at = Self.headerSize
        // Each extension takes at least two bytes, so the chain ends within the datagram.
        while next != 0 {
            guard at + 2 <= bytes.count else { throw DecodeError(description: "extension header cut short") }
            let type = next
            let length = Int(bytes[at + 1])
            next = bytes[at]
            at += 2
            guard at + length <= bytes.count else { throw DecodeError(description: "extension \(type) of \(length) bytes cut short") }
            if type == 1 {
                // BEP 29 asks for a multiple of four bytes; libtorrent sends as few as it needs
                // (seen: one byte), and reads any length itself.
                guard length >= 1 else { throw DecodeError(description: "an empty selective ACK") }
                guard selectiveAck == nil else { throw DecodeError(description: "two selective ACKs") }
                selectiveAck = Array(bytes[at..<at + length])
            }
            at += length
        }
        payload = Array(bytes[at...])
    }

    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.headerSize + (selectiveAck.map { $0.count + 2 } ?? 0) + payload.count)
        bytes.append(kind.rawValue << 4 | Self.version)
        bytes.append(selectiveAck == nil ? 0 : 1)
        func u16(_ value: UInt16) { bytes.append(UInt8(value >> 8)); bytes.append(UInt8(value & 0xFF)) }
        func u32(_ value: UInt32) { u16(UInt16(value >> 16)); u16(UInt16(value & 0xFFFF)) }
        u16(connectionID)
        u32(timestamp)
        u32(timestampDifference)
        u32(window)
        u16(sequence)
        u16(ack)
        if let selectiveAck {
            bytes.append(0)
            bytes.append(UInt8(selectiveAck.count))
            bytes += selectiveAck
        }
        bytes += payload
        return bytes
    }

    /// Sequence numbers the selective ACK says arrived.
    public var selectivelyAcked: [UInt16] {
        guard let selectiveAck else { return [] }
        var acked: [UInt16] = []
        for (index, byte) in selectiveAck.enumerated() where byte != 0 {
            for bit in 0..<8 where byte & (1 << bit) != 0 {
                acked.append(ack &+ 2 &+ UInt16(truncatingIfNeeded: index * 8 + bit))
            }
        }
        return acked
    }
}

/// uTP's 16-bit sequence numbers wrap; "before" is judged over half the space, as TCP does.
public enum UTPSequence {
    /// `a` comes before `b` (within 32,767 of it).
    @inlinable public static func precedes(_ a: UInt16, _ b: UInt16) -> Bool { a != b && b &- a < 0x8000 }
    /// How far `b` is past `a`, wrapping.
    @inlinable public static func distance(from a: UInt16, to b: UInt16) -> Int { Int(b &- a) }
}
