/// When a torrent scrapes its trackers: at start, then `interval` after each scrape ends, one
/// at a time. Pure: the torrent's tick asks `takeIfDue`, and the scrape reports its end.
public struct ScrapeSchedule: Sendable {
    public let interval: Duration
    /// The next scrape's time; nil while one is under way (or with nothing to scrape).
    public private(set) var next: ContinuousClock.Instant?

    public init(interval: Duration) { self.interval = interval }

    /// Due from `now` (a torrent with trackers starting).
    public mutating func start(now: ContinuousClock.Instant) { next = now }

    /// True when a scrape should begin now; the next is not due until this one has ended.
    public mutating func takeIfDue(now: ContinuousClock.Instant) -> Bool {
        guard let next, now >= next else { return false }
        self.next = nil
        return true
    }

    public mutating func ended(now: ContinuousClock.Instant) { next = now + interval }
}
