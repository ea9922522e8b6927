import ShoalCore
import Testing

/// When web seeds are asked: connections per server, backoff, drops — over simulated days.
@Suite("Web seed schedule")
struct WebSeedScheduleTests {
    let origin = ContinuousClock.now

    @Test func onlyHTTPServersEachOnce() {
        let schedule = WebSeedSchedule(urls: ["http://a/", "ftp://b/", "https://c/", "http://a/", "not a url"])
        #expect(schedule.servers.map(\.url) == ["http://a/", "https://c/"])
    }

    @Test func eachServerTakesTwoRequestsAtOnce() {
        var schedule = WebSeedSchedule(urls: ["http://a/", "http://b/"])
        #expect(schedule.due(now: origin) == [0, 0, 1, 1])
        schedule.opened(0)
        #expect(schedule.due(now: origin) == [0, 1, 1])
        schedule.opened(0)
        #expect(schedule.due(now: origin) == [1, 1] && schedule.inFlight == 2)
        schedule.closed(0)
        #expect(schedule.due(now: origin) == [0, 1, 1])
    }

    @Test func failuresInARowDoubleTheWaitUpToAnHourAndAnAnswerResetsIt() {
        var schedule = WebSeedSchedule(urls: ["http://a/"])
        var waits: [Int64] = []
        var now = origin
        for _ in 0..<10 {
            waits.append(schedule.failed(0, reason: "connection refused", now: now).components.seconds)
            #expect(schedule.due(now: now).isEmpty && schedule.nextRetry == now + .seconds(waits.last!))
            #expect(schedule.status(0, now: now) == "retry in \(waits.last!) s: connection refused")
            now = schedule.nextRetry!
            #expect(schedule.due(now: now) == [0, 0])
        }
        #expect(waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600])
        schedule.received(0, bytes: 100)
        #expect(schedule.failed(0, reason: "HTTP 500", now: now) == .seconds(30))
        #expect(schedule.failed(0, reason: "HTTP 503", retryAfter: .seconds(600), now: now) == .seconds(600), "Retry-After, when longer")
        #expect(schedule.failed(0, reason: "HTTP 503", retryAfter: .seconds(86_400), now: now) == .seconds(3600), "at most an hour")
    }

    @Test func aDroppedServerIsNeverAskedAgain() {
        var schedule = WebSeedSchedule(urls: ["http://a/", "http://b/"])
        schedule.drop(0, reason: "sent data that failed the hash check")
        schedule.failed(0, reason: "late", now: origin)
        #expect(schedule.due(now: origin + .seconds(86_400)) == [1, 1] && schedule.nextRetry == nil)
        #expect(schedule.status(0, now: origin) == "dropped: sent data that failed the hash check")
    }

    /// A day of a torrent's tick (every second) asking a server that fails one time in three,
    /// two connections at a time: never more than two at once, never asked while it waits, and
    /// the wait after each failure what the rule says.
    @Test func aDayOfAFlakyServer() {
        var schedule = WebSeedSchedule(urls: ["http://a/"])
        var open: [ContinuousClock.Instant] = []  // when each request under way ends
        var rng = SplitMix64(seed: 29)
        var asked = 0, failures = 0
        var waitingUntil: ContinuousClock.Instant?
        for second in 0..<86_400 {
            let now = origin + .seconds(second)
            // Requests that end now: a third fail.
            while let index = open.firstIndex(where: { $0 <= now }) {
                open.remove(at: index)
                schedule.closed(0)
                if Int.random(in: 0..<3, using: &rng) == 0 {
                    failures += 1
                    let wait = schedule.failed(0, reason: "HTTP 500", now: now)
                    #expect(wait >= WebSeedSchedule.firstWait && wait <= WebSeedSchedule.longestWait)
                    waitingUntil = schedule.nextRetry
                } else {
                    schedule.received(0, bytes: 1 << 20)
                    waitingUntil = nil
                }
            }
            for index in schedule.due(now: now) {
                #expect(waitingUntil.map { now >= $0 } ?? true, "asked while waiting")
                schedule.opened(index)
                open.append(now + .seconds(Int.random(in: 1...5, using: &rng)))
                asked += 1
            }
            #expect(schedule.inFlight <= WebSeedSchedule.connectionsPerServer && schedule.inFlight == open.count)
        }
        #expect(asked > 1_000 && failures > 300, "asked \(asked), failed \(failures)")
    }
}
