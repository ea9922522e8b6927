import ShoalCore

/// Scraping every tracker of a torrent (BEP 48 over HTTP, BEP 15 over UDP), so the tracker list
/// shows each one's seeders, leechers and completed downloads — not only the tracker we announce
/// to. A failed scrape is not a tracker error: many trackers do not scrape at all.
extension TorrentRuntime {
    func scrapeLoop() async {
        let urls = Array(Set(trackerStates.map(\.url))).sorted()
        guard !urls.isEmpty else { return }
        while !Task.isCancelled {
            let hash = metainfo.infoHash
            let retry = config.udpTrackerRetry
            let timeout = config.trackerTimeout
            let gate = trackerGate
            let results = await withTaskGroup(of: (String, ScrapeCounts?).self) { group in
                for url in urls {
                    guard await gate.admit() else { break }
                    group.addTask { (url, await TrackerScrape.counts(for: hash, at: url, timeout: timeout, retry: retry)) }
                }
                return await group.reduce(into: [(String, ScrapeCounts?)]()) { $0.append($1) }
            }
            let now = ContinuousClock.now
            for case (let url, let counts?) in results {
                for index in trackerStates.indices where trackerStates[index].url == url {
                    trackerStates[index].seeders = counts.seeders
                    trackerStates[index].leechers = counts.leechers
                    trackerStates[index].completed = counts.completed
                    trackerStates[index].lastScrape = now
                }
            }
            try? await Task.sleep(for: config.scrapeInterval)
        }
    }

}

/// One scrape of one tracker, over HTTP or UDP by the URL's scheme.
public enum TrackerScrape {
    /// The tracker's counts for one torrent, or nil when it cannot or will not say.
    public static func counts(for hash: InfoHash, at url: String, timeout: Duration,
                              retry: UDPTrackerClient.Retry) async -> ScrapeCounts? {
        let scheme = url.lowercased()
        if scheme.hasPrefix("udp://") {
            return try? await UDPTrackerClient.scrape([hash], at: url, retry: retry).first
        }
        guard scheme.hasPrefix("http://") || scheme.hasPrefix("https://"), let scrapeURL = ScrapeResponse.url(announce: url, hashes: [hash]),
            let reply = try? await HTTPClient.fetch(scrapeURL, timeout: timeout), reply.status == 200
        else { return nil }
        return (try? ScrapeResponse.parse(httpBody: reply.body))?[hash]
    }
}
