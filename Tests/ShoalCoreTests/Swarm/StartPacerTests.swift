import ShoalCore
import Testing

/// Restored seeds start a few at a time, on an injected clock.
@Suite("Start pacer")
struct StartPacerTests {
    private let origin = ContinuousClock.now

    @Test func aSecondsWorthGoesAtOnceThenTheRateHoldsOverManySeconds() {
        var pacer = StartPacer<Int>(perSecond: 2_000)
        for id in 0..<100_000 { pacer.add(id) }
        var released: [Int] = []
        var now = origin
        let first = pacer.release(now: now)
        #expect(first.count == 2_000)
        released += first
        // Every 100 ms for two minutes: 200 a step, in order, until none is left.
        var steps = 0
        while !pacer.isEmpty, steps < 1_200 {
            now += .milliseconds(100)
            let batch = pacer.release(now: now)
            #expect(batch.count <= 200, "at step \(steps)")
            released += batch
            steps += 1
        }
        #expect(released == Array(0..<100_000))
        #expect(steps == 490, "98,000 at 2,000 a second: 49 s")
        #expect(pacer.wait(now: now) == nil)
    }

    @Test func aStalledCallerGetsOneSecondsWorthNotAllItMissed() {
        var pacer = StartPacer<Int>(perSecond: 100)
        for id in 0..<10_000 { pacer.add(id) }
        #expect(pacer.release(now: origin).count == 100)
        #expect(pacer.release(now: origin).isEmpty, "nothing more in the same instant")
        #expect(pacer.release(now: origin + .seconds(3_600)).count == 100)
        // A clock that steps back releases nothing extra.
        #expect(pacer.release(now: origin + .seconds(10)).isEmpty)
    }

    @Test func theWaitNamesWhenTheNextOneMayGo() {
        var pacer = StartPacer<Int>(perSecond: 4)
        for id in 0..<20 { pacer.add(id) }
        var now = origin
        var released = pacer.release(now: now)
        #expect(released.count == 4)
        // Waiting as told, again and again: one each time, a quarter of a second apart.
        for _ in 0..<16 {
            let wait = pacer.wait(now: now)
            #expect(wait == .milliseconds(250))
            now += wait ?? .zero
            let batch = pacer.release(now: now)
            #expect(batch.count == 1)
            released += batch
        }
        #expect(released == Array(0..<20))
        #expect(pacer.wait(now: now) == nil)
    }

    @Test func addsAfterADrainWaitForTheirTurnToo() {
        var pacer = StartPacer<Int>(perSecond: 10)
        for id in 0..<10 { pacer.add(id) }
        #expect(pacer.release(now: origin).count == 10)
        for id in 10..<15 { pacer.add(id) }
        #expect(pacer.release(now: origin + .milliseconds(200)) == [10, 11])
        #expect(pacer.count == 3)
    }

    @Test func aLoweredRateHoldsUntilRaisedAgain() {
        var pacer = StartPacer<Int>(perSecond: 1_000)
        for id in 0..<20_000 { pacer.add(id) }
        var now = origin
        #expect(pacer.release(now: now).count == 1_000)
        // Downloads begin: 100 a second for a simulated minute, asked every 250 ms.
        pacer.setRate(100)
        var slow = 0
        for _ in 0..<240 {
            now += .milliseconds(250)
            slow += pacer.release(now: now).count
        }
        #expect(slow == 6_000, "a minute at 100 a second")
        #expect(pacer.wait(now: now) == .milliseconds(10))
        // They end: the full rate again, without a burst for the slow minute.
        pacer.setRate(1_000)
        var fast = 0
        var seconds = 0
        while !pacer.isEmpty, seconds < 60 {
            now += .seconds(1)
            let batch = pacer.release(now: now)
            #expect(batch.count <= 1_000)
            fast += batch.count
            seconds += 1
        }
        #expect(fast == 13_000)
        #expect(seconds == 13)
    }
}
