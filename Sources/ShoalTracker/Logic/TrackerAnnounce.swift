import ShoalCore

/// An announce as a tracker receives it, parsed and checked from an HTTP query string.
public struct TrackerAnnounce: Sendable, Equatable {
    public var infoHash: InfoHash
    public var peerID: PeerID
    public var address: PeerAddress
    public var left: Int64
    public var event: AnnounceRequest.Event
    public var numwant: Int
    public var compact: Bool

    public init(infoHash: InfoHash, peerID: PeerID, address: PeerAddress, left: Int64, event: AnnounceRequest.Event,
                numwant: Int = 50, compact: Bool = true) {
        self.infoHash = infoHash
        self.peerID = peerID
        // One spelling per peer, whichever front end it came through: a dual-stack listener
        // reports IPv4 clients as ::ffff:a.b.c.d.
        self.address = address.normalized
        self.left = left
        self.event = event
        self.numwant = numwant
        self.compact = compact
    }

    /// `remoteHost` is the connection's source address; an `ip` parameter is ignored so nobody can
    /// point a swarm at a third party.
    public init(query: QueryString, remoteHost: String) throws(TrackerFailure) {
        guard let hashBytes = query.first("info_hash") else { throw TrackerFailure("missing info_hash") }
        guard let hash = InfoHash(bytes: hashBytes) else { throw TrackerFailure("info_hash must be 20 bytes") }
        guard let idBytes = query.first("peer_id") else { throw TrackerFailure("missing peer_id") }
        guard let id = PeerID(bytes: idBytes) else { throw TrackerFailure("peer_id must be 20 bytes") }
        guard let portText = query.text("port") else { throw TrackerFailure("missing port") }
        guard let port = UInt16(portText), port > 0 else { throw TrackerFailure("invalid port") }
        let left = query.text("left").flatMap { Int64($0) } ?? 0
        guard left >= 0 else { throw TrackerFailure("invalid left") }
        let event: AnnounceRequest.Event
        switch query.text("event") ?? "" {
        case "", "empty", "paused": event = .none
        case "started": event = .started
        case "completed": event = .completed
        case "stopped": event = .stopped
        default: throw TrackerFailure("invalid event")
        }
        let numwant = query.text("numwant").flatMap { Int($0) } ?? 50
        self.init(infoHash: hash, peerID: id, address: PeerAddress(host: remoteHost, port: port), left: left,
                  event: event, numwant: max(0, min(numwant, 1000)), compact: query.text("compact") != "0")
    }
}

/// A parsed `a=b&c=d` query whose values are raw bytes (info-hashes are binary).
public struct QueryString: Sendable {
    public private(set) var pairs: [(String, [UInt8])] = []

    public init(_ text: some StringProtocol) throws(TrackerFailure) {
        for part in text.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = PercentEncoding.decode(pieces[0]) else { throw TrackerFailure("bad percent-encoding") }
            guard let value = PercentEncoding.decodeBytes(pieces.count > 1 ? pieces[1] : "") else {
                throw TrackerFailure("bad percent-encoding in \(key)")
            }
            pairs.append((key, value))
        }
    }

    public func first(_ key: String) -> [UInt8]? { pairs.first { $0.0 == key }?.1 }
    public func all(_ key: String) -> [[UInt8]] { pairs.filter { $0.0 == key }.map(\.1) }
    public func text(_ key: String) -> String? { first(key).flatMap { String(validating: $0, as: UTF8.self) } }
}
