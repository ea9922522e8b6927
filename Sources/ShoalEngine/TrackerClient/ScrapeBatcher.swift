import ShoalCore

/// Scrapes of one tracker for many torrents go as one request (BEP 48 takes several
/// `info_hash`es over HTTP, BEP 15 up to 74 over UDP): 10,000 torrents on one tracker are a
/// few hundred requests per round, not 10,000.
///
/// A torrent asks for its counts and waits. The first to ask for a tracker leads: it waits for
/// the session's turn (`TrackerGate`), takes every torrent asking by then (up to a request's
/// worth), sends, and hands each its answer; anyone left over gets the lead for the next
/// request. No task is spawned: the work runs in the callers' own tasks. A tracker that answers
/// a batch without some of its torrents is asked one torrent at a time from then on.
actor ScrapeBatcher {
    enum Turn {
        case answered(ScrapeCounts?)
        /// Lead the next request for the tracker.
        case lead
    }

    private struct Waiter {
        let hash: InfoHash
        let continuation: CheckedContinuation<Turn, Never>
    }

    private var waiting: [String: [Waiter]] = [:]
    /// Trackers with a request on its way or waiting for its turn.
    private var led: Set<String> = []
    /// Trackers that answered a batch only in part.
    private var singleOnly: Set<String> = []
    private(set) var requestsSent = 0

    /// Torrents waiting for the next request to `url` (not counting its leader).
    func waitingCount(at url: String) -> Int { waiting[url]?.count ?? 0 }

    /// Whether a request to `url` is on its way or waiting for its turn.
    func isLed(_ url: String) -> Bool { led.contains(url) }

    static let httpBatch = 64
    static let udpBatch = 74

    /// `hash`'s counts at `url`, or nil when the tracker cannot or will not say; each request
    /// waits for its turn at `gate`.
    func counts(for hash: InfoHash, at url: String, gate: TrackerGate, timeout: Duration,
                retry: UDPTrackerClient.Retry) async -> ScrapeCounts? {
        if led.contains(url) {
            let turn = await withCheckedContinuation { waiting[url, default: []].append(Waiter(hash: hash, continuation: $0)) }
            guard case .lead = turn else {
                if case .answered(let counts) = turn { return counts }
                return nil
            }
        } else {
            led.insert(url)
        }
        return await lead(url, own: hash, gate: gate, timeout: timeout, retry: retry)
    }

    private func lead(_ url: String, own: InfoHash, gate: TrackerGate, timeout: Duration,
                      retry: UDPTrackerClient.Retry) async -> ScrapeCounts? {
        // Cancelled while waiting for its turn (the torrent paused): the lead goes on, and the
        // others still get their request.
        guard await gate.admit() else {
            handOnLead(url)
            return nil
        }
        let limit = singleOnly.contains(url) ? 1 : (url.lowercased().hasPrefix("udp://") ? Self.udpBatch : Self.httpBatch)
        var queue = waiting[url] ?? []
        let riders = Array(queue.prefix(max(0, limit - 1)))
        queue.removeFirst(riders.count)
        waiting[url] = queue.isEmpty ? nil : queue
        requestsSent += 1
        let hashes = [own] + riders.map(\.hash)
        let answers = await TrackerScrape.counts(for: hashes, at: url, timeout: timeout, retry: retry) ?? [:]
        if hashes.count > 1, !answers.isEmpty, answers.count < Set(hashes).count { singleOnly.insert(url) }
        for rider in riders { rider.continuation.resume(returning: .answered(answers[rider.hash])) }
        handOnLead(url)
        return answers[own]
    }

    /// Whoever asked meanwhile goes next, led by the first of them.
    private func handOnLead(_ url: String) {
        guard var rest = waiting[url], !rest.isEmpty else {
            led.remove(url)
            return
        }
        let next = rest.removeFirst()
        waiting[url] = rest.isEmpty ? nil : rest
        next.continuation.resume(returning: .lead)
    }
}

/// One scrape of one tracker, over HTTP or UDP by the URL's scheme.
public enum TrackerScrape {
    /// The tracker's counts for one torrent, or nil when it cannot or will not say.
    public static func counts(for hash: InfoHash, at url: String, timeout: Duration,
                              retry: UDPTrackerClient.Retry) async -> ScrapeCounts? {
        await counts(for: [hash], at: url, timeout: timeout, retry: retry)?[hash]
    }

    /// The counts the tracker gives for these torrents in one request (nil: no answer).
    static func counts(for hashes: [InfoHash], at url: String, timeout: Duration,
                       retry: UDPTrackerClient.Retry) async -> [InfoHash: ScrapeCounts]? {
        let scheme = url.lowercased()
        if scheme.hasPrefix("udp://") {
            guard let counts = try? await UDPTrackerClient.scrape(hashes, at: url, retry: retry) else { return nil }
            return Dictionary(zip(hashes, counts), uniquingKeysWith: { first, _ in first })
        }
        guard scheme.hasPrefix("http://") || scheme.hasPrefix("https://"), let scrapeURL = ScrapeResponse.url(announce: url, hashes: hashes),
            let reply = try? await HTTPClient.fetch(scrapeURL, timeout: timeout), reply.status == 200
        else { return nil }
        return try? ScrapeResponse.parse(httpBody: reply.body)
    }
}
