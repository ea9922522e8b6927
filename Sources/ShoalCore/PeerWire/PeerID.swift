/// A 20-byte peer id. Shoal's are Azureus style: `-SH0100-` and 12 random characters.
public struct PeerID: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 20 else { return nil }
        self.bytes = Array(bytes)
    }

    public static func generate(using rng: inout some RandomNumberGenerator) -> PeerID {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        let prefix = Array("-SH0100-".utf8)
        let tail = (0..<12).map { _ in alphabet.randomElement(using: &rng)! }
        return PeerID(bytes: prefix + tail)!
    }

    public static func generate() -> PeerID {
        var rng = SystemRandomNumberGenerator()
        return generate(using: &rng)
    }

    /// The client name and version the id announces, for the peer list ("Shoal 0.1.0", "libtorrent 2.0.8").
    public var clientName: String { ClientNames.decode(self) }

    public var description: String {
        String(decoding: bytes.map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
    }
}

enum ClientNames {
    static let azureus: [String: String] = [
        "SH": "Shoal", "LT": "libtorrent", "lt": "libTorrent (rTorrent)", "TR": "Transmission",
        "qB": "qBittorrent", "AZ": "Vuze", "UT": "µTorrent", "DE": "Deluge", "BI": "BiglyBT",
        "KT": "KTorrent", "RQ": "rqbit", "BT": "BitTorrent", "WW": "WebTorrent", "FD": "Free Download Manager",
    ]

    static func decode(_ id: PeerID) -> String {
        let b = id.bytes
        if b[0] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") {
            let code = String(decoding: b[1...2], as: UTF8.self)
            let version = b[3...6].map { Character(UnicodeScalar($0)) }
            let name = azureus[code] ?? code
            if code == "TR" {  // Transmission: major, two-digit minor, patch flag
                return "\(name) \(version[0]).\(String(version[1...2]))"
            }
            let digits = version.map { String($0) }
            if code == "SH" || code == "LT" || code == "lt" || code == "qB" {
                return "\(name) \(Self.digit(version[0])).\(Self.digit(version[1])).\(Self.digit(version[2]))"
            }
            return "\(name) \(digits.joined(separator: "."))"
        }
        if b.starts(with: Array("A2-".utf8)) {  // aria2: A2-1-36-0-
            let parts = String(decoding: b[3...], as: UTF8.self).split(separator: "-").prefix(3)
            return "aria2 " + parts.joined(separator: ".")
        }
        if b[0] == UInt8(ascii: "M") || b[0] == UInt8(ascii: "T") || b[0] == UInt8(ascii: "S"), b[2] == UInt8(ascii: "-") {
            let text = String(decoding: b[1..<8], as: UTF8.self).split(separator: "-").joined(separator: ".")
            return (b[0] == UInt8(ascii: "M") ? "Mainline " : "\(Character(UnicodeScalar(b[0]))) ") + text
        }
        return "unknown"
    }

    /// Azureus-style version digits are 0-9 then A-Z for 10-35.
    static func digit(_ char: Character) -> Int {
        if let value = char.wholeNumberValue { return value }
        if let ascii = char.asciiValue, ascii >= UInt8(ascii: "A"), ascii <= UInt8(ascii: "Z") { return Int(ascii - 55) }
        return 0
    }
}
