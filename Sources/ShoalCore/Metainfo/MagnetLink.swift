/// A BEP 9 magnet URI: `magnet:?xt=urn:btih:<hash>&dn=<name>&tr=<tracker>...`.
public struct MagnetLink: Sendable, Hashable, CustomStringConvertible {
    public var infoHash: InfoHash
    public var displayName: String?
    public var trackers: [String]
    /// `x.pe`: peers to dial directly, as host:port.
    public var peers: [String]
    /// BEP 53 `so=`: the file indices to download; nil means all.
    public var selectOnly: [Int]?
    /// The SHA-256 info-hash of a torrent with a v2 half (BEP 52 `xt=urn:btmh:1220…`); a
    /// v2-only torrent's `infoHash` is its first 20 bytes and it has no `btih`.
    public var v2Hash: [UInt8]?

    public init(infoHash: InfoHash, displayName: String? = nil, trackers: [String] = [], peers: [String] = [],
                selectOnly: [Int]? = nil, v2Hash: [UInt8]? = nil) {
        self.infoHash = infoHash
        self.v2Hash = v2Hash
        self.displayName = displayName
        self.trackers = trackers
        self.peers = peers
        self.selectOnly = selectOnly
    }

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.trimmingWhitespace()
        guard trimmed.lowercased().hasPrefix("magnet:?") else {
            throw ParseError(description: "not a magnet link (it must start with 'magnet:?')")
        }
        let query = trimmed.dropFirst("magnet:?".count)
        var hash: InfoHash?
        var name: String?
        var trackers: [String] = []
        var peers: [String] = []
        var selectOnly: [Int]?
        var v2: [UInt8]?
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0]).lowercased()
            guard parts.count == 2, let value = PercentEncoding.decode(String(parts[1]), plusIsSpace: key == "dn") else {
                throw ParseError(description: "bad percent-encoding in '\(key)'")
            }
            switch key {
            case "xt":
                let prefix = "urn:btih:"
                if value.lowercased().hasPrefix("urn:btmh:") {
                    // A multihash: 0x12 (SHA-256), 0x20 (32 bytes), then the hash.
                    let text = value.dropFirst("urn:btmh:".count).lowercased()
                    guard text.hasPrefix("1220"), text.count == 68, let bytes = Hex.decode(String(text.dropFirst(4))) else {
                        throw ParseError(description: "a v2 info-hash must be 'urn:btmh:1220' and 64 hex characters")
                    }
                    v2 = bytes
                    continue
                }
                // Other xt kinds may sit beside the v1 hash; skip them.
                guard value.lowercased().hasPrefix(prefix) else { continue }
                guard let parsed = InfoHash(text: String(value.dropFirst(prefix.count))) else {
                    throw ParseError(description: "info-hash must be 40 hex or 32 base32 characters")
                }
                hash = parsed
            case "dn": name = value
            case "tr": if !value.isEmpty && !trackers.contains(value) { trackers.append(value) }
            case "x.pe": if !value.isEmpty { peers.append(value) }
            case "so": selectOnly = try Self.parseSelection(value)
            default: continue
            }
        }
        // A v2-only magnet is known on the wire by its SHA-256 hash cut to 20 bytes (BEP 52).
        guard let hash = hash ?? v2.flatMap({ InfoHash(bytes: $0.prefix(20)) }) else {
            throw ParseError(description: "missing 'xt=urn:btih:' or 'xt=urn:btmh:' info-hash")
        }
        self.init(infoHash: hash, displayName: name, trackers: trackers, peers: peers, selectOnly: selectOnly, v2Hash: v2)
    }

    /// `so=0,2,4-6`.
    private static func parseSelection(_ text: String) throws(ParseError) -> [Int] {
        var indices: [Int] = []
        for item in text.split(separator: ",") {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            if bounds.count == 1, let single = Int(bounds[0]), single >= 0 {
                indices.append(single)
            } else if bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]), low >= 0, low <= high,
                high - low < 100_000
            {
                indices.append(contentsOf: low...high)
            } else {
                throw ParseError(description: "bad 'so' selection '\(item)'")
            }
        }
        return Array(Set(indices)).sorted()
    }

    public var uri: String {
        let btmh = v2Hash.map { "urn:btmh:1220" + Hex.encode($0) }
        var out: String
        if let btmh, v2Hash?.prefix(20).elementsEqual(infoHash.bytes) == true {
            out = "magnet:?xt=" + btmh  // v2-only
        } else {
            out = "magnet:?xt=urn:btih:" + infoHash.hex + (btmh.map { "&xt=" + $0 } ?? "")
        }
        if let displayName { out += "&dn=" + PercentEncoding.encode(Array(displayName.utf8)) }
        for tracker in trackers { out += "&tr=" + PercentEncoding.encode(Array(tracker.utf8)) }
        for peer in peers { out += "&x.pe=" + PercentEncoding.encode(Array(peer.utf8)) }
        if let selectOnly { out += "&so=" + selectOnly.map(String.init).joined(separator: ",") }
        return out
    }

    public var description: String { uri }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
