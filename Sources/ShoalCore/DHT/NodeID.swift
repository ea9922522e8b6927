/// A 160-bit DHT node id (BEP 5); distance is XOR, compared as a big-endian number.
public struct NodeID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 20 else { return nil }
        self.bytes = Array(bytes)
    }

    public init(_ hash: InfoHash) { bytes = hash.bytes }

    public static func == (lhs: NodeID, rhs: NodeID) -> Bool { lhs.bytes == rhs.bytes }

    public func hash(into hasher: inout Hasher) { InfoHash.combine(bytes, into: &hasher) }

    public static func random(using rng: inout some RandomNumberGenerator) -> NodeID {
        NodeID(bytes: (0..<20).map { _ in UInt8.random(in: 0...255, using: &rng) })!
    }

    public static func random() -> NodeID {
        var rng = SystemRandomNumberGenerator()
        return random(using: &rng)
    }

    /// A random id sharing exactly `prefix` leading bits with this one: a target in the range
    /// of routing-table bucket `prefix`, for refreshing that bucket (0 ..< 160; clamped).
    public func random(sharing prefix: Int, using rng: inout some RandomNumberGenerator) -> NodeID {
        var out = NodeID.random(using: &rng).bytes
        for bit in 0...min(max(prefix, 0), 159) {
            let mask = UInt8(0x80) >> UInt8(bit % 8)
            let own = bytes[bit / 8] & mask
            // The shared bits are ours; the one after them is flipped.
            let wanted = bit == prefix ? own ^ mask : own
            out[bit / 8] = (out[bit / 8] & ~mask) | wanted
        }
        return NodeID(bytes: out)!
    }

    public func distance(to other: NodeID) -> [UInt8] { zip(bytes, other.bytes).map { $0 ^ $1 } }

    /// How many leading bits two ids share (160 for the same id).
    public func commonPrefixLength(with other: NodeID) -> Int {
        for (index, byte) in distance(to: other).enumerated() where byte != 0 {
            return index * 8 + byte.leadingZeroBitCount
        }
        return 160
    }

    /// True when `a` is closer to this id than `b` is.
    public func isCloser(_ a: NodeID, than b: NodeID) -> Bool {
        distance(to: a).lexicographicallyPrecedes(distance(to: b))
    }

    public static func < (a: NodeID, b: NodeID) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
    public var description: String { Hex.encode(bytes) }
}

/// A node as the DHT passes it around: id and UDP address (26 bytes compact for IPv4, BEP 5;
/// 38 for IPv6, BEP 32).
public struct DHTNodeInfo: Sendable, Hashable {
    public var id: NodeID
    public var address: PeerAddress

    public init(id: NodeID, address: PeerAddress) {
        self.id = id
        self.address = address
    }

    public var family: DHTFamily { DHTFamily(of: address) }

    /// The 26-byte form, for an IPv4 node.
    public var compact: [UInt8]? { address.compact.map { id.bytes + $0 } }

    /// The 38-byte form, for an IPv6 node.
    public var compact6: [UInt8]? { address.isIPv6 ? address.compact6.map { id.bytes + $0 } : nil }

    public static func parseCompact(_ bytes: [UInt8]) -> [DHTNodeInfo]? {
        parse(bytes, entry: 26, PeerAddress.parseCompact)
    }

    public static func parseCompact6(_ bytes: [UInt8]) -> [DHTNodeInfo]? {
        parse(bytes, entry: 38, PeerAddress.parseCompact6)
    }

    private static func parse(_ bytes: [UInt8], entry: Int, _ address: ([UInt8]) -> [PeerAddress]) -> [DHTNodeInfo]? {
        guard bytes.count % entry == 0 else { return nil }
        return stride(from: 0, to: bytes.count, by: entry).compactMap { offset in
            guard let address = address(Array(bytes[offset + 20..<offset + entry])).first else { return nil }
            return DHTNodeInfo(id: NodeID(bytes: bytes[offset..<offset + 20])!, address: address)
        }
    }
}
