/// How fast the session may send tracker requests (announces and scrapes), all torrents
/// together: a token bucket of `perSecond` with a burst of as many, handed out in the order
/// asked. Pure: fed the clock, it says how long each request waits.
///
/// 10,000 torrents started at once would otherwise announce in the same second — the storm
/// that gets a client banned from a private tracker; paced, they go at the rate, first asked
/// first sent, and a lone announce still goes at once.
///
/// A request whose turn came (`reserve`) still asks `send` before it goes: waiters that wake
/// late together (a stalled process) would otherwise all go at once. `send` holds any one
/// second to the burst and a second's rate, counted at the moments requests really go.
public struct TrackerRequestPacer: Sendable {
    /// Requests a second; 0 is no limit.
    public let perSecond: Int
    /// Slots free now (fractional while refilling); below zero, that many wait already.
    private var tokens: Double
    private var updated: ContinuousClock.Instant
    /// When the last `2 × perSecond` requests went, oldest first (a ring).
    private var sent: [ContinuousClock.Instant] = []
    private var oldest = 0

    public init(perSecond: Int, now: ContinuousClock.Instant) {
        self.perSecond = max(0, perSecond)
        tokens = Double(self.perSecond)
        updated = now
    }

    /// Most requests any one second may see: the burst and a second's rate.
    public var perSecondCap: Int { 2 * perSecond }

    /// A request whose turn has come goes now (zero: counted as sent) unless the last second
    /// already saw `perSecondCap`: then how long until it may ask again.
    public mutating func send(now: ContinuousClock.Instant) -> Duration {
        guard perSecond > 0 else { return .zero }
        if sent.count < perSecondCap {
            sent.append(now)
            return .zero
        }
        let free = sent[oldest] + .seconds(1)
        guard now >= free else { return free - now }
        sent[oldest] = now
        oldest = (oldest + 1) % sent.count
        return .zero
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
