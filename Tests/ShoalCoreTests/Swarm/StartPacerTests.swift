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
}
