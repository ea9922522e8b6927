/// When a torrent announces to its trackers: the tracker's `interval` and `min interval`, a
/// floor of our own, exponential backoff while announces fail, and the events that may go early.
/// Pure: fed outcomes and `now`, it says when the next announce is due and with which event.
///
/// The rules (BEP 3, and what rTorrent, Transmission and libtorrent do):
/// - `started` goes at once; regular announces follow every `max(interval, floor)`;
/// - `completed` and a user's re-announce go early, but never sooner than `max(min interval,
///   floor)` after the last announce;
/// - a failed announce is retried after 15 s, 30 s, 60 s ... up to 30 minutes (never sooner than
///   the tracker's `min interval`), keeping the event it was meant to carry;
/// - only one announce is in flight at a time; `stopped` is not scheduled here (it is sent once,
///   when the torrent stops).
public struct AnnounceSchedule: Sendable {
    public typealias Instant = ContinuousClock.Instant

    public struct Policy: Sendable, Equatable {
        /// Our own shortest wait between announces, whatever the tracker says.
        public var floor: Duration
        /// The first retry after a failure; doubled on each further failure up to `longestBackoff`.
        public var firstBackoff: Duration
        public var longestBackoff: Duration
        /// A tracker's interval is believed up to this (a typo of a tracker must not silence us for weeks).
        public var longestInterval: Duration

        public init(floor: Duration = .seconds(30), firstBackoff: Duration = .seconds(15),
                    longestBackoff: Duration = .seconds(30 * 60), longestInterval: Duration = .seconds(6 * 3600)) {
            self.floor = floor
            self.firstBackoff = firstBackoff
            self.longestBackoff = longestBackoff
            self.longestInterval = longestInterval
        }
    }

    public let policy: Policy
    /// The event the next announce carries.
    public private(set) var event: AnnounceRequest.Event = .started
    /// When the next announce may go (nil: now).
    public private(set) var nextAnnounce: Instant?
    /// When the last announce that reached a tracker went.
    public private(set) var lastSuccess: Instant?
    public private(set) var failures = 0
    /// The event of the announce under way, if one is.
    public private(set) var inFlight: AnnounceRequest.Event?
    private var interval: Duration?
    private var minInterval: Duration?
    /// The download ended and the trackers have not been told yet.
    private var completedOwed = false
    /// `completed` went out: never again this run.
    private var completedSent = false

    public init(policy: Policy = Policy(), alreadyComplete: Bool = false) {
        self.policy = policy
        // A torrent complete when it starts never sends `completed` (it did not complete now).
        completedSent = alreadyComplete
    }

    /// The event to announce with now, or nil when no announce is due (or one is in flight).
    public func due(now: Instant) -> AnnounceRequest.Event? {
        guard inFlight == nil else { return nil }
        if let nextAnnounce, now < nextAnnounce { return nil }
        return event
    }

    /// An announce is starting: returns its event, or nil when none is due.
    public mutating func begin(now: Instant) -> AnnounceRequest.Event? {
        guard let event = due(now: now) else { return nil }
        inFlight = event
        return event
    }

    /// A tracker answered: the next regular announce follows its interval.
    public mutating func succeeded(interval seconds: Int, minInterval minimum: Int?, now: Instant) {
        let carried = inFlight
        inFlight = nil
        failures = 0
        lastSuccess = now
        let interval = Self.clamp(seconds, to: policy.longestInterval)
        minInterval = minimum.map { Self.clamp($0, to: interval) }
        self.interval = interval
        // What the tracker heard is the event that was in flight: `completed` may have been
        // asked for while a regular announce was on its way.
        if carried == .completed {
            completedSent = true
            completedOwed = false
        }
        if completedOwed {
            // The download ended while another announce was on its way: `completed` follows it.
            event = .completed
            nextAnnounce = now + earliestGap
        } else {
            event = .none
            nextAnnounce = now + max(interval, earliestGap)
        }
    }

    /// The announce under way ended: with the answer that counts, or none when every tracker failed.
    public mutating func ended(_ answer: AnnounceResponse?, now: Instant) {
        if let answer {
            succeeded(interval: answer.interval, minInterval: answer.minInterval, now: now)
        } else {
            failed(now: now)
        }
    }

    /// Every tracker failed: try again later, with the same event.
    public mutating func failed(now: Instant) {
        inFlight = nil
        failures += 1
        let doublings = min(failures - 1, 20)
        var backoff = policy.firstBackoff * (1 << doublings)
        if backoff > policy.longestBackoff { backoff = policy.longestBackoff }
        nextAnnounce = now + max(backoff, minInterval ?? .zero)
    }

    /// The download is complete: `completed` goes as soon as the tracker allows.
    public mutating func completed(now: Instant) {
        guard !completedSent, !completedOwed else { return }
        completedOwed = true
        // `started` has not reached a tracker yet: it goes first, `completed` after it.
        guard event == .none else { return }
        event = .completed
        pullForward()
    }

    /// The user asked for more peers: announce as soon as the tracker allows.
    public mutating func reannounce(now: Instant) {
        pullForward()
    }

    /// The shortest gap the tracker and our policy allow between two announces.
    private var earliestGap: Duration { max(minInterval ?? .zero, policy.floor) }

    /// Moves the next announce to the earliest moment allowed: the last success plus the
    /// shortest gap; while failing, the backoff stands (a dead tracker is not hammered).
    private mutating func pullForward() {
        guard failures == 0 else { return }
        guard let lastSuccess else { return }
        let earliest = lastSuccess + earliestGap
        if nextAnnounce.map({ earliest < $0 }) ?? true { nextAnnounce = earliest }
    }

    private static func clamp(_ seconds: Int, to longest: Duration) -> Duration {
        let value = Duration.seconds(max(0, seconds))
        return value > longest ? longest : value
    }
}
