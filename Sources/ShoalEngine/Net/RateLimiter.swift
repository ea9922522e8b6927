import ShoalCore

/// A shared byte-rate cap (global or per torrent): callers take tokens and sleep if told to.
public actor RateLimiter {
    private var bucket: TokenBucket

    public init(bytesPerSecond: Int) {
        bucket = TokenBucket(rate: bytesPerSecond, now: .now)
    }

    public func setRate(_ bytesPerSecond: Int) { bucket.setRate(bytesPerSecond, now: .now) }

    public var rate: Int { bucket.rate }

    func delay(for bytes: Int) -> Duration? { bucket.take(bytes, now: .now) }

    /// Waits until `bytes` may pass through every limiter given.
    public static func pass(_ bytes: Int, through limiters: [RateLimiter]) async {
        for limiter in limiters {
            if let wait = await limiter.delay(for: bytes) { try? await Task.sleep(for: wait) }
        }
    }
}
