import ShoalCore
import Synchronization

/// A shared byte-rate cap (global or per torrent): callers take tokens and sleep if told to.
/// Unlimited (rate 0) costs one atomic load, so an uncapped transfer pays nothing per block.
public final class RateLimiter: Sendable {
    private let bucket: Mutex<TokenBucket>
    private let currentRate: Atomic<Int>

    public init(bytesPerSecond: Int) {
        bucket = Mutex(TokenBucket(rate: bytesPerSecond, now: .now))
        currentRate = Atomic(bytesPerSecond)
    }

    public func setRate(_ bytesPerSecond: Int) {
        bucket.withLock { $0.setRate(bytesPerSecond, now: .now) }
        currentRate.store(bytesPerSecond, ordering: .relaxed)
    }

    public var rate: Int { currentRate.load(ordering: .relaxed) }

    func delay(for bytes: Int) -> Duration? {
        guard rate > 0 else { return nil }
        return bucket.withLock { $0.take(bytes, now: .now) }
    }

    /// Waits until `bytes` may pass through every limiter given.
    public static func pass(_ bytes: Int, through limiters: [RateLimiter]) async {
        for limiter in limiters {
            if let wait = limiter.delay(for: bytes) { try? await Task.sleep(for: wait) }
        }
    }
}
