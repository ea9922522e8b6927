import ShoalCore

/// How often each client announced each torrent, kept for `/stats?peers=1` so a soak run (or
/// an operator) can see who announces more than the interval asks. Pure and bounded: past
/// `capacity` clients the least recently heard is forgotten.
public struct AnnounceLedger: Sendable {
    public struct Key: Hashable, Sendable {
        public let infoHash: InfoHash
        public let peerID: PeerID
    }

    public struct Entry: Sendable {
        public var first: ContinuousClock.Instant
        public var last: ContinuousClock.Instant
        /// Announces without an event (the regular ones), and with each event.
        public var regular = 0
        public var started = 0
        public var completed = 0
        public var stopped = 0
        /// Regular announces that came sooner than the tracker's min interval.
        public var tooSoon = 0
        public var total: Int { regular + started + completed + stopped }
    }

    public let capacity: Int
    public private(set) var entries: [Key: Entry] = [:]

    public init(capacity: Int = 10_000) { self.capacity = capacity }

    /// Records an announce; returns whether it was a regular one sooner than `minInterval`
    /// after the same client's previous announce of the torrent.
    @discardableResult
    public mutating func record(_ request: TrackerAnnounce, now: ContinuousClock.Instant, minInterval: Duration) -> Bool {
        let key = Key(infoHash: request.infoHash, peerID: request.peerID)
        var entry = entries[key] ?? Entry(first: now, last: now)
        let soon = entries[key] != nil && request.event == .none && now - entry.last < minInterval
        switch request.event {
        case .none: entry.regular += 1
        case .started: entry.started += 1
        case .completed: entry.completed += 1
        case .stopped: entry.stopped += 1
        }
        if soon { entry.tooSoon += 1 }
        entry.last = now
        entries[key] = entry
        if entries.count > capacity {
            // A tenth at a time, least recently heard first: one sort per capacity/10 new clients.
            for stale in entries.sorted(by: { $0.value.last < $1.value.last }).prefix(max(1, capacity / 10)) {
                entries[stale.key] = nil
            }
        }
        return soon
    }
}
