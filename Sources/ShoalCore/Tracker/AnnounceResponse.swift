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

    /// The dictionary an HTTP tracker answers with (announce or scrape), bounded in size and
    /// depth; its `failure reason`, if any, thrown as a rejection.
    static func trackerRoot(_ httpBody: [UInt8]) throws -> BencodeNode {
        let root: BencodeNode
        do {
            root = try BencodeDecoder(limits: .init(maxDepth: 8, maxInputSize: 4 << 20)).decode(httpBody)
        } catch {
            let preview = String(decoding: httpBody.prefix(60), as: UTF8.self)
            throw Failure.malformed("\(error.description) in \"\(preview)\"")
        }
        guard root.entries != nil else { throw Failure.malformed("not a dictionary") }
        if let reason = root["failure reason"]?.bytes {
            throw Failure.rejected(String(decoding: reason, as: UTF8.self))
        }
        return root
    }

    /// Parses an HTTP tracker body: compact (BEP 23) or dictionary peer lists, `peers6` (BEP 7).
    public init(httpBody: [UInt8]) throws(Failure) {
        do {
            self = try Self.parse(httpBody)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .malformed("\(error)")
        }
    }

    private static func count(_ root: BencodeNode, _ key: String) -> Int? {
        guard let value = root[key]?.integer else { return nil }
        return Int(value)
    }

    private static func text(_ root: BencodeNode, _ key: String) -> String? {
        guard let bytes = root[key]?.bytes else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One entry of a non-compact peer list: `{ip, port, peer id}`.
    private static func dictionaryPeer(_ entry: BencodeNode) -> PeerAddress? {
        guard let ip = entry["ip"]?.bytes, let port = entry["port"]?.integer, port > 0, port <= 65535 else { return nil }
        return PeerAddress(host: String(decoding: ip, as: UTF8.self), port: UInt16(port))
    }

    // Untyped throws on purpose: Swift 6.3's optimizer crashes (an ownership verifier error in
    // CopyPropagation) on this body with typed throws.
    private static func parse(_ httpBody: [UInt8]) throws -> AnnounceResponse {
        let root = try trackerRoot(httpBody)
        guard let interval = root["interval"]?.integer, interval >= 0 else { throw Failure.malformed("missing 'interval'") }
        var peers: [PeerAddress] = []
        if let compact = root["peers"]?.bytes {
            guard compact.count % 6 == 0 else { throw Failure.malformed("compact peer list of \(compact.count) bytes") }
            peers = PeerAddress.parseCompact(compact)
        } else if let entries = root["peers"]?.list {
            peers = entries.compactMap(dictionaryPeer)
        }
        if let six = root["peers6"]?.bytes { peers += PeerAddress.parseCompact6(six) }
        return AnnounceResponse(
            interval: Int(interval), minInterval: count(root, "min interval"), peers: peers,
            complete: count(root, "complete"), incomplete: count(root, "incomplete"),
            trackerID: text(root, "tracker id"), warning: text(root, "warning message"))
    }
}

extension AnnounceResponse {
    /// The answers of several trackers announced to at once, as one for a schedule: every peer
    /// (each once), the longest interval and min interval any gave (no tracker is asked sooner
    /// than it said), the largest counts. Nil when none answered.
    public static func merged(_ answers: [AnnounceResponse]) -> AnnounceResponse? {
        guard var merged = answers.first else { return nil }
        var seen = Set(merged.peers)
        for answer in answers.dropFirst() {
            merged.interval = max(merged.interval, answer.interval)
            if let minimum = answer.minInterval { merged.minInterval = max(merged.minInterval ?? 0, minimum) }
            for peer in answer.peers where seen.insert(peer).inserted { merged.peers.append(peer) }
            if let complete = answer.complete { merged.complete = max(merged.complete ?? 0, complete) }
            if let incomplete = answer.incomplete { merged.incomplete = max(merged.incomplete ?? 0, incomplete) }
        }
        // A tracker id and a warning belong to the tracker that sent them (kept per tracker).
        merged.trackerID = nil
        merged.warning = nil
        return merged
    }
}

