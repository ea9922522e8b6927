/// Peer exchange (BEP 11, `ut_pex`): peers a peer connected to or dropped since its last message.
public struct PexMessage: Sendable, Equatable {
    public var added: [PeerAddress]
    /// One flags byte per added peer: 0x01 prefers encryption, 0x02 is a seed, 0x04 supports
    /// uTP, 0x08 supports holepunch, 0x10 is reachable (we connected to it).
    public var addedFlags: [UInt8]
    public var dropped: [PeerAddress]

    public static let seedFlag: UInt8 = 0x02
    public static let reachableFlag: UInt8 = 0x10
    /// BEP 11 caps each list at 50 entries.
    public static let maxPeers = 50

    public init(added: [PeerAddress], addedFlags: [UInt8] = [], dropped: [PeerAddress]) {
        self.added = added
        self.addedFlags = addedFlags
        self.dropped = dropped
    }

    public var isEmpty: Bool { added.isEmpty && dropped.isEmpty }

    public var encoded: [UInt8] {
        func split(_ list: [PeerAddress]) -> (v4: [UInt8], v6: [UInt8]) {
            var v4: [UInt8] = [], v6: [UInt8] = []
            for address in list.prefix(Self.maxPeers) {
                if let compact = address.compact { v4 += compact } else if let compact = address.compact6 { v6 += compact }
            }
            return (v4, v6)
        }
        let added = split(self.added), dropped = split(self.dropped)
        let flags = self.added.prefix(Self.maxPeers).enumerated().compactMap { index, address -> UInt8? in
            guard address.compact?.count == 6 else { return nil }
            return index < addedFlags.count ? addedFlags[index] : 0
        }
        var root: [String: BencodeValue] = ["added": .bytes(added.v4), "added.f": .bytes(flags), "dropped": .bytes(dropped.v4)]
        if !added.v6.isEmpty { root["added6"] = .bytes(added.v6) }
        if !dropped.v6.isEmpty { root["dropped6"] = .bytes(dropped.v6) }
        return BencodeEncoder.encode(.dict(root))
    }

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// Lists longer than BEP 11 allows are cut to the cap; lists of the wrong length are errors.
    public init(parsing payload: [UInt8]) throws(ParseError) {
        let root: BencodeNode
        do {
            root = try BencodeDecoder(limits: .init(maxDepth: 2, maxInputSize: 64 << 10)).decode(payload)
        } catch {
            throw ParseError(description: "ut_pex: \(error.description)")
        }
        guard root.entries != nil else { throw ParseError(description: "ut_pex: not a dictionary") }
        func list(_ key: String, size: Int) throws(ParseError) -> [PeerAddress] {
            guard let bytes = root[key]?.bytes else { return [] }
            guard bytes.count % size == 0 else { throw ParseError(description: "ut_pex: '\(key)' of \(bytes.count) bytes") }
            let peers = size == 6 ? PeerAddress.parseCompact(bytes) : PeerAddress.parseCompact6(bytes)
            return Array(peers.prefix(Self.maxPeers))
        }
        added = try list("added", size: 6) + list("added6", size: 18)
        dropped = try list("dropped", size: 6) + list("dropped6", size: 18)
        addedFlags = Array((root["added.f"]?.bytes ?? []).prefix(Self.maxPeers))
    }
}
