/// The BitTorrent handshake: `\x13BitTorrent protocol`, 8 reserved bytes, info-hash, peer id.
public struct Handshake: Sendable, Hashable {
    public static let length = 68
    static let protocolName = Array("BitTorrent protocol".utf8)

    public var reserved: [UInt8]
    public var infoHash: InfoHash
    public var peerID: PeerID

    /// The reserved bits Shoal sets: the extension protocol (BEP 10) and the fast extension
    /// (BEP 6); the DHT bit (BEP 5) only where the DHT runs.
    /// Extensions (BEP 10), fast (BEP 6), DHT (BEP 5) when on, and for a torrent with a v2 half
    /// the v2 bit (BEP 52: 0x10 of the last byte).
    public static func reservedBits(dht: Bool, v2: Bool = false) -> [UInt8] {
        [0, 0, 0, 0, 0, 0x10, 0, (dht ? 0x05 : 0x04) | (v2 ? 0x10 : 0)]
    }

    public init(infoHash: InfoHash, peerID: PeerID, reserved: [UInt8] = Handshake.reservedBits(dht: false)) {
        self.reserved = reserved
        self.infoHash = infoHash
        self.peerID = peerID
    }

    public var supportsExtensions: Bool { reserved[5] & 0x10 != 0 }
    public var supportsFast: Bool { reserved[7] & 0x04 != 0 }
    public var supportsDHT: Bool { reserved[7] & 0x01 != 0 }
    public var supportsV2: Bool { reserved[7] & 0x10 != 0 }

    public var encoded: [UInt8] {
        [19] + Self.protocolName + reserved + infoHash.bytes + peerID.bytes
    }

    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case notBitTorrent
        public var description: String { "not a BitTorrent handshake" }
    }

    /// Parses the first 68 bytes; the caller has waited for them.
    public init(parsing bytes: some Collection<UInt8>) throws(ParseError) {
        let b = Array(bytes.prefix(Self.length))
        guard b.count == Self.length, b[0] == 19, Array(b[1..<20]) == Self.protocolName else { throw .notBitTorrent }
        reserved = Array(b[20..<28])
        infoHash = InfoHash(bytes: b[28..<48])!
        peerID = PeerID(bytes: b[48..<68])!
    }

    /// Just the prefix up to the info-hash (48 bytes): enough for a listener to route the connection.
    public static func infoHash(inPrefix bytes: some Collection<UInt8>) -> InfoHash? {
        let b = Array(bytes.prefix(48))
        guard b.count == 48, b[0] == 19, Array(b[1..<20]) == protocolName else { return nil }
        return InfoHash(bytes: b[28..<48])
    }
}
