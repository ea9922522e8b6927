/// What a tracker knows of a torrent's swarm without announcing to it (BEP 48, BEP 15 scrape).
public struct ScrapeCounts: Sendable, Hashable {
    /// Peers with the whole torrent.
    public var seeders: Int
    /// How many times the tracker saw a download complete.
    public var completed: Int
    public var leechers: Int

    public init(seeders: Int, completed: Int, leechers: Int) {
        self.seeders = seeders
        self.completed = completed
        self.leechers = leechers
    }
}

/// The HTTP scrape convention (BEP 48): the URL comes from the announce URL, the answer is a
/// bencoded `files` dictionary keyed by raw 20-byte info-hashes.
public enum ScrapeResponse {
    /// The scrape URL for an HTTP announce URL, or nil when the tracker has none: BEP 48 only
    /// defines one when the last path component begins with "announce".
    public static func url(announce: String, hashes: [InfoHash]) -> String? {
        let query = announce.firstIndex(of: "?")
        let path = announce[..<(query ?? announce.endIndex)]
        // The path starts after the scheme's "//" and the host.
        guard let hostStart = path.firstRange(of: "://")?.upperBound,
            let pathStart = path[hostStart...].firstIndex(of: "/"),
            let slash = path[pathStart...].lastIndex(of: "/"), path[path.index(after: slash)...].hasPrefix("announce")
        else { return nil }
        let last = path.index(after: slash)
        let rest = path[path.index(last, offsetBy: "announce".count)...]
        var url = String(path[..<last]) + "scrape" + rest
        var parameters = query.map { String(announce[announce.index(after: $0)...]) } ?? ""
        for hash in hashes {
            parameters += (parameters.isEmpty ? "" : "&") + "info_hash=" + PercentEncoding.encode(hash.bytes)
        }
        if !parameters.isEmpty { url += "?" + parameters }
        return url
    }

    /// Counts by info-hash. Entries that are not dictionaries, or whose key is not 20 bytes,
    /// are skipped: one odd entry should not hide the others.
    public static func parse(httpBody: [UInt8]) throws(AnnounceResponse.Failure) -> [InfoHash: ScrapeCounts] {
        let root: BencodeNode
        do {
            root = try AnnounceResponse.trackerRoot(httpBody)
        } catch let failure as AnnounceResponse.Failure {
            throw failure
        } catch {
            throw .malformed("\(error)")
        }
        guard let files = root["files"]?.entries else { throw .malformed("missing 'files'") }
        var counts: [InfoHash: ScrapeCounts] = [:]
        for entry in files {
            guard let hash = InfoHash(bytes: entry.key), entry.value.entries != nil else { continue }
            counts[hash] = ScrapeCounts(seeders: count(entry.value["complete"]), completed: count(entry.value["downloaded"]),
                                        leechers: count(entry.value["incomplete"]))
        }
        return counts
    }

    /// A missing or negative count reads as 0; a huge one is clamped.
    private static func count(_ node: BencodeNode?) -> Int {
        guard let value = node?.integer, value > 0 else { return 0 }
        return Int(min(value, Int64(Int32.max)))
    }
}
