/// A token bucket for a byte rate cap: `rate` bytes per second, bursts up to `burst`.
/// A rate of 0 means unlimited. Pure: the caller passes the time and sleeps if told to.
public struct TokenBucket: Sendable {
    public private(set) var rate: Int
    public let burstSeconds: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant

    /// `burstSeconds`: what an idle bucket holds. A twentieth of a second keeps the first second
    /// after a pause within 5 % of the cap (a quarter of a second showed 9.65 MiB/s at 8).
    public init(rate: Int, burstSeconds: Double = 0.05, now: ContinuousClock.Instant) {
        self.rate = rate
        self.burstSeconds = burstSeconds
        self.tokens = Double(rate) * burstSeconds
        self.last = now
    }

    public var isUnlimited: Bool { rate <= 0 }

    public mutating func setRate(_ newRate: Int, now: ContinuousClock.Instant) {
        refill(now)
        rate = newRate
        tokens = min(tokens, capacity)
    }

    private var capacity: Double { max(Double(rate) * burstSeconds, 16_384) }

    private mutating func refill(_ now: ContinuousClock.Instant) {
        let elapsed = now - last
        last = now
        guard rate > 0 else { return }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(capacity, tokens + seconds * Double(rate))
    }

    /// Takes `bytes` tokens. Returns nil if the caller may go on now, or how long to wait first
    /// (the tokens are taken either way, so waiters queue fairly behind each other).
    public mutating func take(_ bytes: Int, now: ContinuousClock.Instant) -> Duration? {
        guard rate > 0 else { return nil }
        refill(now)
        tokens -= Double(bytes)
        if tokens >= 0 { return nil }
        return .nanoseconds(Int64(-tokens / Double(rate) * 1e9))
    }
}
