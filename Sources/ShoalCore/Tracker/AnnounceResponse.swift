/// A tracker's answer to an announce, from HTTP (bencoded) or UDP.
public struct AnnounceResponse: Sendable, Hashable {
    public var interval: Int
    public var minInterval: Int?
    public var peers: [PeerAddress]
    public var complete: Int?
    public var incomplete: Int?
    public var trackerID: String?
    public var warning: String?

    public init(interval: Int, minInterval: Int? = nil, peers: [PeerAddress], complete: Int? = nil,
                incomplete: Int? = nil, trackerID: String? = nil, warning: String? = nil) {
        self.interval = interval
        self.minInterval = minInterval
        self.peers = peers
        self.complete = complete
        self.incomplete = incomplete
        self.trackerID = trackerID
        self.warning = warning
    }

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The tracker said no (`failure reason`).
        case rejected(String)
        case malformed(String)

        public var description: String {
            switch self {
            case .rejected(let reason): return "tracker: \(reason)"
            case .malformed(let why): return "bad tracker response: \(why)"
            }
        }
    }

    /// Parses an HTTP tracker body: compact (BEP 23) or dictionary peer lists, `peers6` (BEP 7).
    public init(httpBody: [UInt8]) throws(Failure) {
        let root: BencodeNode
        do {
            root = try BencodeDecoder(limits: .init(maxDepth: 8, maxInputSize: 4 << 20)).decode(httpBody)
        } catch {
            let preview = String(decoding: httpBody.prefix(60), as: UTF8.self)
            throw .malformed("\(error.description) in \"\(preview)\"")
        }
        guard root.entries != nil else { throw .malformed("not a dictionary") }
        if let reason = root["failure reason"]?.bytes {
            throw .rejected(String(decoding: reason, as: UTF8.self))
        }
        guard let interval = root["interval"]?.integer, interval >= 0 else { throw .malformed("missing 'interval'") }
        var peers: [PeerAddress] = []
        switch root["peers"]?.kind {
        case .bytes(let compact)?:
            guard compact.count % 6 == 0 else { throw .malformed("compact peer list of \(compact.count) bytes") }
            peers = PeerAddress.parseCompact(compact)
        case .list(let entries)?:
            for entry in entries {
                guard let ip = entry["ip"]?.bytes, let port = entry["port"]?.integer, port > 0, port <= 65535 else { continue }
                peers.append(PeerAddress(host: String(decoding: ip, as: UTF8.self), port: UInt16(port)))
            }
        default:
            break
        }
        if let six = root["peers6"]?.bytes { peers += PeerAddress.parseCompact6(six) }
        self.init(
            interval: Int(clamping: interval),
            minInterval: root["min interval"]?.integer.map { Int(clamping: $0) },
            peers: peers,
            complete: root["complete"]?.integer.map { Int(clamping: $0) },
            incomplete: root["incomplete"]?.integer.map { Int(clamping: $0) },
            trackerID: root["tracker id"]?.bytes.map { String(decoding: $0, as: UTF8.self) },
            warning: root["warning message"]?.bytes.map { String(decoding: $0, as: UTF8.self) })
    }
}
