/// How fast the session may send tracker requests (announces and scrapes), all torrents
/// together: a token bucket of `perSecond` with a burst of as many, handed out in the order
/// asked. Pure: fed the clock, it says how long each request waits.
///
/// 10,000 torrents started at once would otherwise announce in the same second — the storm
/// that gets a client banned from a private tracker; paced, they go at the rate, first asked
/// first sent, and a lone announce still goes at once.
public struct TrackerRequestPacer: Sendable {
    /// Requests a second; 0 is no limit.
    public let perSecond: Int
    /// Slots free now (fractional while refilling); below zero, that many wait already.
    private var tokens: Double
    private var updated: ContinuousClock.Instant

    public init(perSecond: Int, now: ContinuousClock.Instant) {
        self.perSecond = max(0, perSecond)
        tokens = Double(self.perSecond)
        updated = now
    }

    /// Takes the next slot: how long until the request may go (zero: at once). With
    /// `giveUpAfter`, a slot further off than that is not taken (nil): a stop at shutdown is
    /// dropped rather than hold the exit up.
    public mutating func reserve(now: ContinuousClock.Instant, giveUpAfter: Duration? = nil) -> Duration? {
        guard perSecond > 0 else { return .zero }
        refill(now: now)
        let wait = tokens >= 1 ? Duration.zero : Self.duration(seconds: (1 - tokens) / Double(perSecond))
        if let giveUpAfter, wait > giveUpAfter { return nil }
        tokens -= 1
        return wait
    }

    /// Requests taken and not yet due (what the queue holds now).
    public func waiting(now: ContinuousClock.Instant) -> Int {
        var copy = self
        copy.refill(now: now)
        return copy.tokens < 0 ? Int((-copy.tokens).rounded(.up)) : 0
    }

    private mutating func refill(now: ContinuousClock.Instant) {
        guard now > updated else { return }
        let elapsed = Self.seconds(now - updated)
        tokens = min(Double(perSecond), tokens + elapsed * Double(perSecond))
        updated = now
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func duration(seconds: Double) -> Duration {
        .nanoseconds(Int64((seconds * 1e9).rounded(.up)))
    }
}
