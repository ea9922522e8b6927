import Testing
@testable import ShoalCore

@Suite("Tracker request pacing")
struct TrackerRequestPacerTests {
    let start = ContinuousClock.now

    @Test func aBurstGoesAtOnceAndTheRestAtTheRateInOrder() {
        var pacer = TrackerRequestPacer(perSecond: 10, now: start)
        let waits = (0..<100).map { _ in pacer.reserve(now: start)! }
        #expect(waits.prefix(10).allSatisfy { $0 == .zero }, "the first ten go at once")
        #expect(waits[10] == .milliseconds(100) && waits[99] == .seconds(9))
        #expect(zip(waits, waits.dropFirst()).allSatisfy { $0 <= $1 }, "first asked, first sent")
        #expect(pacer.waiting(now: start) == 90)
        #expect(pacer.waiting(now: start + .seconds(5)) == 40)
        #expect(pacer.waiting(now: start + .seconds(9)) == 0)
    }

    @Test func aLoneRequestAfterAQuietSpellGoesAtOnce() {
        var pacer = TrackerRequestPacer(perSecond: 5, now: start)
        for _ in 0..<20 { _ = pacer.reserve(now: start) }
        // The queue drained (3 s) and the bucket refilled (1 s more).
        #expect(pacer.reserve(now: start + .seconds(4)) == .zero)
    }

    @Test func aStopTooFarBackIsNotQueued() {
        var pacer = TrackerRequestPacer(perSecond: 10, now: start)
        for _ in 0..<40 { _ = pacer.reserve(now: start) }
        // 30 wait already: a 31st would wait 3.1 s.
        #expect(pacer.reserve(now: start, giveUpAfter: .seconds(3)) == nil)
        #expect(pacer.waiting(now: start) == 30, "a refused request takes no slot")
        #expect(pacer.reserve(now: start + .milliseconds(200), giveUpAfter: .seconds(3)) != nil)
    }

    /// Turns come due while the process is stalled, and their waiters all wake late together:
    /// `send` still lets no second see more than the burst and a second's rate.
    @Test func lateWakersDoNotGoAllAtOnce() {
        var pacer = TrackerRequestPacer(perSecond: 10, now: start)
        for _ in 0..<100 { _ = pacer.reserve(now: start) }
        var waiting = Array(repeating: start + .seconds(20), count: 100)  // when each asks to go
        var sends: [ContinuousClock.Instant] = []
        while let next = waiting.indices.min(by: { waiting[$0] < waiting[$1] }) {
            let wait = pacer.send(now: waiting[next])
            if wait == .zero {
                sends.append(waiting[next])
                waiting.remove(at: next)
            } else {
                #expect(wait > .zero && wait <= .seconds(1))
                waiting[next] += wait
            }
        }
        #expect(sends.count == 100)
        for (index, sent) in sends.enumerated() {
            let window = sends[index...].prefix { $0 < sent + .seconds(1) }.count
            #expect(window <= pacer.perSecondCap, "at most \(pacer.perSecondCap) in the second from \(index): \(window)")
        }
        #expect(sends.last! - sends.first! >= .seconds(4), "100 requests at 20 a second take over 4 s")
    }

    @Test func zeroIsNoLimit() {
        var pacer = TrackerRequestPacer(perSecond: 0, now: start)
        #expect((0..<10_000).allSatisfy { _ in pacer.reserve(now: start) == .zero && pacer.send(now: start) == .zero })
        #expect(pacer.waiting(now: start) == 0)
    }

    /// Twelve simulated hours of requests arriving in bursts (10,000 torrents started at once,
    /// then each announcing on its own interval, scrapes between): no second ever sends more
    /// than the burst plus the rate, no request waits longer than the queue ahead of it takes
    /// to drain, and every one is sent.
    @Test func twelveHoursOfBurstsStayUnderTheCap() {
        let rate = 50
        var pacer = TrackerRequestPacer(perSecond: rate, now: start)
        var random = SeededRandom(seed: 22)
        var sendSeconds: [Int: Int] = [:]
        var asked = 0
        var lastSend = start
        var now = start
        let end = start + .seconds(12 * 3600)
        func ask(_ count: Int) {
            for _ in 0..<count {
                let ahead = pacer.waiting(now: now)
                let wait = pacer.reserve(now: now)!
                #expect(wait <= .milliseconds(Int64(1000 * (ahead + 1) / rate) + 1), "waits no longer than its queue")
                let sent = now + wait
                #expect(sent >= lastSend, "in the order asked")
                lastSend = sent
                sendSeconds[Int(TrackerRequestPacer.seconds(sent - start)), default: 0] += 1
                asked += 1
            }
        }
        ask(10_000)
        while now < end {
            now += .milliseconds(Int64(random.next() % 2000) + 1)
            // Mostly a few at a time; now and then a user adds a thousand torrents.
            ask(random.next() % 500 == 0 ? 1000 : Int(random.next() % 4))
        }
        #expect(sendSeconds.values.reduce(0, +) == asked)
        let busiest = sendSeconds.values.max() ?? 0
        #expect(busiest <= 2 * rate, "at most the burst and a second's rate in any second: \(busiest)")
        #expect(asked > 30_000)
    }
}
