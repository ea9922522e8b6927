/// What a client tells a tracker (BEP 3, with BEP 23 `compact`).
public struct AnnounceRequest: Sendable, Hashable {
    public enum Event: String, Sendable, Hashable {
        case none = ""
        case started, completed, stopped

        /// BEP 15 numbering.
        public var udpValue: UInt32 {
            switch self {
            case .none: return 0
            case .completed: return 1
            case .started: return 2
            case .stopped: return 3
            }
        }
    }

    public var infoHash: InfoHash
    public var peerID: PeerID
    public var port: UInt16
    public var uploaded: Int64
    public var downloaded: Int64
    public var left: Int64
    public var event: Event
    public var numwant: Int
    /// Random per session, lets the tracker recognise us across IP changes.
    public var key: UInt32
    public var trackerID: String?
    /// Our global IPv6 address, when we have one and the announce may go over IPv4 (BEP 7 `ipv6=`).
    public var ipv6: String?

    public init(infoHash: InfoHash, peerID: PeerID, port: UInt16, uploaded: Int64 = 0, downloaded: Int64 = 0,
                left: Int64, event: Event = .none, numwant: Int = 50, key: UInt32 = 0, trackerID: String? = nil) {
        self.infoHash = infoHash
        self.peerID = peerID
        self.port = port
        self.uploaded = uploaded
        self.downloaded = downloaded
        self.left = left
        self.event = event
        self.numwant = numwant
        self.key = key
        self.trackerID = trackerID
    }

    /// The full announce URL: the tracker's URL with our query appended (after any query it has).
    public func url(announce: String) -> String {
        var query = "info_hash=" + PercentEncoding.encode(infoHash.bytes)
        query += "&peer_id=" + PercentEncoding.encode(peerID.bytes)
        query += "&port=\(port)&uploaded=\(uploaded)&downloaded=\(downloaded)&left=\(left)"
        query += "&compact=1&numwant=\(numwant)&key=" + String(key, radix: 16)
        if event != .none { query += "&event=" + event.rawValue }
        if let trackerID { query += "&trackerid=" + PercentEncoding.encode(Array(trackerID.utf8)) }
        if let ipv6 { query += "&ipv6=" + PercentEncoding.encode(Array(ipv6.utf8)) }
        return announce + (announce.contains("?") ? "&" : "?") + query
    }
}
