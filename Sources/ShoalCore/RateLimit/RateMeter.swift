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

    /// Bytes counted elsewhere and collected now (a connection's sent bytes, read once a
    /// second): spread over the seconds since `start` in proportion, as if added as they moved.
    /// All in the current second, they made the meter read a quarter high under a cap.
    public mutating func add(_ bytes: Int, since start: ContinuousClock.Instant, now: ContinuousClock.Instant) {
        let from = max(start, origin)
        let last = second(now)
        guard bytes > 0, from < now, second(from) < last else { return add(bytes, now: now) }
        advance(to: now)
        total += Int64(bytes)
        let span = Self.seconds(now - from)
        let firstKept = max(second(from), last - Int64(Self.window) + 1)
        var placed: Int64 = 0
        for index in firstKept..<last {
            let begin = max(from, origin + .seconds(index)), end = origin + .seconds(index + 1)
            let share = Int64((Double(bytes) * Self.seconds(end - begin) / span).rounded())
            buckets[Int(index % Int64(Self.window))] += share
            placed += share
        }
        // The current second takes its share and the rounding; seconds before the window none.
        let dropped = Self.seconds(origin + .seconds(firstKept) - from)
        let current = Int64(bytes) - placed - Int64((Double(bytes) * max(0, dropped) / span).rounded())
        buckets[Int(last % Int64(Self.window))] += max(0, current)
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
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
