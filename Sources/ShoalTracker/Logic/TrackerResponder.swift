import ShoalCore

/// Turns HTTP requests into bencoded tracker answers. One handler for the HTTP transport; the
/// registry it drives is shared with the UDP transport.
public enum TrackerResponder {
    public static func announceBody(_ reply: TrackerRegistry.Reply, compact: Bool) -> [UInt8] {
        var root: [String: BencodeValue] = [
            "interval": .integer(Int64(reply.interval)),
            "min interval": .integer(Int64(max(1, reply.interval / 2))),  // TrackerRegistry.minInterval
            "complete": .integer(Int64(reply.complete)),
            "incomplete": .integer(Int64(reply.incomplete)),
        ]
        if compact {
            // IPv4 peers in `peers` (BEP 23), IPv6 ones in `peers6` (BEP 7).
            root["peers"] = .bytes(reply.peers.compactMap(\.compact).flatMap { $0 })
            let six = reply.peers.filter(\.isIPv6).compactMap(\.compact6).flatMap { $0 }
            if !six.isEmpty { root["peers6"] = .bytes(six) }
        } else {
            root["peers"] = .list(reply.peers.map { .dict(["ip": .string($0.host), "port": .integer(Int64($0.port))]) })
        }
        return BencodeEncoder.encode(.dict(root))
    }

    public static func failureBody(_ reason: String) -> [UInt8] {
        BencodeEncoder.encode(.dict(["failure reason": .string(reason)]))
    }

    public static func scrapeBody(_ counts: [(InfoHash, TrackerRegistry.Counts)]) -> [UInt8] {
        var files: [[UInt8]: BencodeValue] = [:]
        for (hash, count) in counts {
            files[hash.bytes] = .dict([
                "complete": .integer(Int64(count.complete)), "incomplete": .integer(Int64(count.incomplete)),
                "downloaded": .integer(Int64(count.downloaded)),
            ])
        }
        return BencodeEncoder.encode(.dict(["files": .dictionary(files)]))
    }
}
