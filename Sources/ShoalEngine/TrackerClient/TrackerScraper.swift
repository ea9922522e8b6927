import ShoalCore

/// Scraping every tracker of a torrent (BEP 48 over HTTP, BEP 15 over UDP), so the tracker list
/// shows each one's seeders, leechers and completed downloads — not only the tracker we announce
/// to. A failed scrape is not a tracker error: many trackers do not scrape at all.
extension TorrentRuntime {
    /// One scrape of every tracker the torrent lists (see `wakeScrapeIfDue`); the next comes
    /// `scrapeInterval` after it ends.
    func scrapeRound() async {
        defer {
            scrapeSchedule.ended(now: .now)
            noteChange()
        }
        let urls = trackers.urls
        guard !urls.isEmpty else { return }
        let hash = metainfo.infoHash
        let retry = config.udpTrackerRetry
        let timeout = config.trackerTimeout
        let gate = trackerGate
        let results = await withTaskGroup(of: (String, ScrapeCounts?).self) { group in
            for url in urls {
                // With the session's other torrents on the same tracker, in one request.
                group.addTask { (url, await gate.scrapes.counts(for: hash, at: url, gate: gate, timeout: timeout, retry: retry)) }
            }
            return await group.reduce(into: [(String, ScrapeCounts?)]()) { $0.append($1) }
        }
        let now = ContinuousClock.now
        for case (let url, let counts?) in results {
            trackers.update(url) {
                $0.seeders = counts.seeders
                $0.leechers = counts.leechers
                $0.completed = counts.completed
                $0.lastScrape = now
            }
        }
    }
}
