/// An IPv4 or IPv6 address and port, as trackers and PEX hand them out.
public struct PeerAddress: Sendable, Hashable, CustomStringConvertible, Comparable {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public static func < (a: PeerAddress, b: PeerAddress) -> Bool { (a.host, a.port) < (b.host, b.port) }

    /// "1.2.3.4:5" or "[::1]:5".
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    /// BEP 23 compact form: 4 bytes address, 2 bytes port, each entry.
    public static func parseCompact(_ bytes: [UInt8]) -> [PeerAddress] {
        guard bytes.count % 6 == 0 else { return [] }
        return stride(from: 0, to: bytes.count, by: 6).compactMap { offset in
            let port = bytes.bigEndianUInt16(at: offset + 4)
            guard port > 0 else { return nil }
            let host = bytes[offset..<offset + 4].map(String.init).joined(separator: ".")
            return PeerAddress(host: host, port: port)
        }
    }

    /// BEP 7 compact IPv6: 16 bytes address, 2 bytes port (an IPv4-mapped one as IPv4).
    public static func parseCompact6(_ bytes: [UInt8]) -> [PeerAddress] {
        guard bytes.count % 18 == 0 else { return [] }
        return stride(from: 0, to: bytes.count, by: 18).compactMap { offset in
            let port = bytes.bigEndianUInt16(at: offset + 16)
            guard port > 0 else { return nil }
            let address = Array(bytes[offset..<offset + 16])
            return PeerAddress(host: IPv6Text.mappedIPv4(address) ?? IPv6Text.text(address), port: port)
        }
    }

    /// The 18-byte compact form (BEP 7), if the host is an IPv6 address.
    public var compact6: [UInt8]? {
        guard var out = IPv6Text.bytes(host) else { return nil }
        out.appendBigEndian(port)
        return out
    }

    /// The 6-byte compact form, if the host is a dotted IPv4 address.
    public var compact: [UInt8]? {
        let parts = host.split(separator: ".")
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard let byte = UInt8(part) else { return nil }
            out.append(byte)
        }
        out.appendBigEndian(port)
        return out
    }
}
