/// The BitTorrent handshake: `\x13BitTorrent protocol`, 8 reserved bytes, info-hash, peer id.
public struct Handshake: Sendable, Hashable {
    public static let length = 68
    static let protocolName = Array("BitTorrent protocol".utf8)

    public var reserved: [UInt8]
    public var infoHash: InfoHash
    public var peerID: PeerID

    /// Reserved bits Shoal sets: extension protocol (BEP 10) and fast extension (BEP 6) come later.
    public init(infoHash: InfoHash, peerID: PeerID, reserved: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0]) {
        self.reserved = reserved
        self.infoHash = infoHash
        self.peerID = peerID
    }

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
