/// Bytes per second over a sliding window of whole seconds. Pure: callers pass the time.
public struct RateMeter: Sendable {
    public static let window = 5

    private var buckets = [Int64](repeating: 0, count: window)
    private var currentSecond: Int64?
    private let origin: ContinuousClock.Instant
    public private(set) var total: Int64 = 0

    public init(origin: ContinuousClock.Instant) {
        self.origin = origin
    }

    private func second(_ now: ContinuousClock.Instant) -> Int64 {
        (now - origin).components.seconds
    }

    private mutating func advance(to now: ContinuousClock.Instant) {
        let second = second(now)
        if let current = currentSecond {
            let gap = second - current
            if gap > 0 {
                for step in 1...min(gap, Int64(Self.window)) {
                    buckets[Int((current + step) % Int64(Self.window))] = 0
                }
            }
        }
        currentSecond = second
    }

    public mutating func add(_ bytes: Int, now: ContinuousClock.Instant) {
        advance(to: now)
        buckets[Int(second(now) % Int64(Self.window))] += Int64(bytes)
        total += Int64(bytes)
    }

    /// Bytes in the window over the time the window covers: its completed seconds plus the
    /// part of the current one gone by. (Dividing by the whole window read up to a fifth low
    /// early in each second: 940-960 KiB/s under a 1,024 KiB/s cap.)
    public mutating func rate(now: ContinuousClock.Instant) -> Double {
        advance(to: now)
        let elapsed = now - origin
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let covered = Double(Self.window - 1) + (seconds - seconds.rounded(.down))
        let span = max(1, min(seconds, covered))
        let sum = buckets.reduce(0, +)
        return Double(sum) / span
    }
}
