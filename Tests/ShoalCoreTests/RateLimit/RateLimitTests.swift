import Testing
@testable import ShoalCore

@Suite("Rates and limits")
struct RateLimitTests {
    @Test func tokenBucketPacesToTheRate() {
        let start = ContinuousClock.now
        var bucket = TokenBucket(rate: 100_000, burstSeconds: 0.25, now: start)
        #expect(bucket.take(25_000, now: start) == nil)  // the burst
        let wait = bucket.take(50_000, now: start)
        #expect(wait == .milliseconds(500))
        // After the wait the debt is repaid.
        #expect(bucket.take(1, now: start + .milliseconds(510)) == nil)
    }

    @Test func zeroMeansUnlimited() {
        var bucket = TokenBucket(rate: 0, now: .now)
        #expect(bucket.take(1 << 30, now: .now) == nil)
        #expect(bucket.isUnlimited)
    }

    @Test func rateMeterAveragesOverTheWindow() {
        let start = ContinuousClock.now
        var meter = RateMeter(origin: start)
        for second in 0..<10 { meter.add(1000, now: start + .seconds(second)) }
        let rate = meter.rate(now: start + .seconds(9) + .milliseconds(500))
        #expect(rate > 900 && rate < 1100)
        #expect(meter.rate(now: start + .seconds(30)) == 0)
        #expect(meter.total == 10_000)
    }
}
