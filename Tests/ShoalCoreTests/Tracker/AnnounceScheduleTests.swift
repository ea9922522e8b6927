import Testing
@testable import ShoalCore

/// The announcer's timing, run through many hours on a virtual clock: a loop that only covers
/// its first wait has not been tested (the first release's announce storm began after it).
@Suite("Announce schedule")
struct AnnounceScheduleTests {
    typealias Instant = ContinuousClock.Instant

    /// A virtual tracker and clock: steps time a second at a time, announcing whenever the
    /// schedule says so, and records when each announce went and with which event.
    struct Simulation {
        var schedule: AnnounceSchedule
        var now: Instant
        let start: Instant
        var sent: [(at: Duration, event: AnnounceRequest.Event)] = []
        /// Whether each announce in `sent` was answered.
        var answered: [Bool] = []
        /// The tracker's answer to each announce: nil fails it.
        var answer: (Duration) -> (interval: Int, min: Int?)?

        init(policy: AnnounceSchedule.Policy = .init(), alreadyComplete: Bool = false,
             answer: @escaping (Duration) -> (interval: Int, min: Int?)?) {
            schedule = AnnounceSchedule(policy: policy, alreadyComplete: alreadyComplete)
            start = ContinuousClock.now
            now = start
            self.answer = answer
        }

        var elapsed: Duration { now - start }

        mutating func run(for duration: Duration, every step: Duration = .seconds(1), each: (inout Simulation) -> Void = { _ in }) {
            let end = now + duration
            while now < end {
                each(&self)
                if let event = schedule.begin(now: now) {
                    sent.append((elapsed, event))
                    let reply = answer(elapsed)
                    answered.append(reply != nil)
                    // As the announcers report it: the answer that counts, or none.
                    schedule.ended(reply.map { AnnounceResponse(interval: $0.interval, minInterval: $0.min, peers: []) }, now: now)
                }
                now += step
            }
        }

        var gaps: [Duration] { zip(sent.dropFirst(), sent).map { $0.at - $1.at } }
    }

    @Test func regularAnnouncesFollowTheIntervalForADay() {
        var sim = Simulation { _ in (interval: 1800, min: 900) }
        sim.run(for: .seconds(24 * 3600))
        #expect(sim.sent.count == 48)  // at 0, 30 min, ... 23 h 30
        #expect(sim.sent.first?.event == .started)
        #expect(sim.sent.dropFirst().allSatisfy { $0.event == .none })
        #expect(sim.gaps.allSatisfy { $0 == .seconds(1800) })
    }

    @Test func aShortIntervalIsRaisedToTheFloor() {
        var sim = Simulation(policy: .init(floor: .seconds(30))) { _ in (interval: 5, min: nil) }
        sim.run(for: .seconds(3600))
        #expect(sim.sent.count == 120)
        #expect(sim.gaps.allSatisfy { $0 == .seconds(30) })
    }

    @Test func aZeroOrAbsurdIntervalIsBounded() {
        var zero = Simulation(policy: .init(floor: .seconds(30))) { _ in (interval: 0, min: 0) }
        zero.run(for: .seconds(600))
        #expect(zero.gaps.allSatisfy { $0 == .seconds(30) })
        var huge = Simulation { _ in (interval: Int.max / 2, min: nil) }
        huge.run(for: .seconds(13 * 3600), every: .seconds(10))
        #expect(huge.sent.count == 3, "six hours at most between announces")
    }

    @Test func failuresBackOffFrom15SecondsTo30MinutesAndRecover() {
        // The tracker is dead for the first 4 hours, then answers.
        var sim = Simulation { at in at < .seconds(4 * 3600) ? nil : (interval: 1800, min: nil) }
        sim.run(for: .seconds(6 * 3600))
        let failing = sim.sent.filter { $0.at < .seconds(4 * 3600) }
        let gaps = zip(failing.dropFirst(), failing).map { ($0.at - $1.at) / .seconds(1) }
        #expect(Array(gaps.prefix(8)) == [15, 30, 60, 120, 240, 480, 960, 1800])
        #expect(gaps.dropFirst(7).allSatisfy { $0 == 1800 })
        #expect(sim.sent.allSatisfy { $0.at < .seconds(4 * 3600) ? $0.event == .started : true },
                "started is kept until a tracker hears it")
        let recovered = sim.sent.filter { $0.at >= .seconds(4 * 3600) }
        #expect(recovered.first?.event == .started)
        #expect(recovered.dropFirst().allSatisfy { $0.event == .none })
        let after = zip(recovered.dropFirst(), recovered).map { $0.at - $1.at }
        #expect(after.allSatisfy { $0 == .seconds(1800) })
        #expect(sim.schedule.failures == 0)
    }

    @Test func backoffNeverUndercutsTheTrackersMinInterval() {
        // Works once (min interval 10 minutes), then fails for ever.
        var sim = Simulation { at in at == .zero ? (interval: 1800, min: 600) : nil }
        sim.run(for: .seconds(5 * 3600))
        #expect(sim.gaps.allSatisfy { $0 >= .seconds(600) })
    }

    @Test func completedGoesEarlyButNotBeforeTheMinInterval() {
        var sim = Simulation { _ in (interval: 1800, min: 300) }
        sim.run(for: .seconds(100))
        sim.schedule.completed(now: sim.now)
        sim.run(for: .seconds(3 * 3600))
        #expect(sim.sent.map(\.event).prefix(3) == [.started, .completed, .none])
        #expect(sim.sent[1].at == .seconds(300), "completed waits for min interval, not the full interval")
        #expect(sim.sent[2].at == .seconds(300 + 1800))
        #expect(sim.sent.filter { $0.event == .completed }.count == 1)
        // Completing again (a recheck found a piece missing and it was fetched) sends nothing new.
        sim.schedule.completed(now: sim.now)
        sim.run(for: .seconds(3600))
        #expect(sim.sent.filter { $0.event == .completed }.count == 1)
    }

    @Test func completedDuringAFailedStartFollowsTheStart() {
        var sim = Simulation { at in at < .seconds(100) ? nil : (interval: 1800, min: nil) }
        sim.run(for: .seconds(20))
        sim.schedule.completed(now: sim.now)
        sim.run(for: .seconds(2 * 3600))
        #expect(sim.sent.map(\.event).filter { $0 != .none }.suffix(2) == [.started, .completed])
        let started = sim.sent.last { $0.event == .started }!.at
        let completed = sim.sent.first { $0.event == .completed }!.at
        #expect(completed - started == .seconds(30), "after the floor")
    }

    /// The download ends while a regular announce is on its way: that announce did not carry
    /// `completed`, so `completed` still goes after it.
    @Test func completedDuringARegularAnnounceStillGoes() {
        var schedule = AnnounceSchedule(policy: .init(floor: .seconds(1)))
        let start = ContinuousClock.now
        #expect(schedule.begin(now: start) == .started)
        schedule.succeeded(interval: 60, minInterval: nil, now: start)
        #expect(schedule.begin(now: start + .seconds(60)) == AnnounceRequest.Event.none)
        schedule.completed(now: start + .seconds(61))
        schedule.succeeded(interval: 60, minInterval: nil, now: start + .seconds(61))
        #expect(schedule.due(now: start + .seconds(62)) == .completed)
        #expect(schedule.begin(now: start + .seconds(62)) == .completed)
        schedule.succeeded(interval: 60, minInterval: nil, now: start + .seconds(62))
        #expect(schedule.due(now: start + .seconds(200)) == AnnounceRequest.Event.none)
        // The same when `started` is the one under way.
        var early = AnnounceSchedule(policy: .init(floor: .seconds(1)))
        #expect(early.begin(now: start) == .started)
        early.completed(now: start)
        early.succeeded(interval: 60, minInterval: nil, now: start)
        #expect(early.begin(now: start + .seconds(1)) == .completed)
    }

    @Test func aTorrentCompleteAtStartNeverSendsCompleted() {
        var sim = Simulation(alreadyComplete: true) { _ in (interval: 60, min: nil) }
        sim.schedule.completed(now: sim.now)
        sim.run(for: .seconds(3600))
        #expect(!sim.sent.contains { $0.event == .completed })
    }

    @Test func reannounceIsHeldToTheFloorAndMinInterval() {
        var sim = Simulation(policy: .init(floor: .seconds(30))) { _ in (interval: 1800, min: 120) }
        // The user presses re-announce every second for an hour.
        sim.run(for: .seconds(3600)) { $0.schedule.reannounce(now: $0.now) }
        #expect(sim.gaps.allSatisfy { $0 >= .seconds(120) })
        #expect(sim.sent.count == 30)
    }

    @Test func reannounceWhileFailingDoesNotHammerADeadTracker() {
        var sim = Simulation { _ in nil }
        sim.run(for: .seconds(3600)) { $0.schedule.reannounce(now: $0.now) }
        #expect(sim.sent.count <= 8)
    }

    @Test func oneAnnounceInFlightAtATime() {
        var schedule = AnnounceSchedule()
        let now = ContinuousClock.now
        #expect(schedule.begin(now: now) == .started)
        #expect(schedule.begin(now: now + .seconds(3600)) == nil)
        schedule.completed(now: now)
        #expect(schedule.due(now: now + .seconds(3600)) == nil)
        schedule.failed(now: now + .seconds(10))
        #expect(schedule.due(now: now + .seconds(24)) == nil)
        #expect(schedule.due(now: now + .seconds(25)) == .started)
    }

    /// Whatever the tracker answers, whatever the user and the download do, no two announces
    /// are closer than the floor — except that `started` may retry sooner after failures
    /// (backoff starts at 15 s).
    @Test(arguments: 1...20) func neverMoreThanOnePerFloorWhatever(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var replies = SeededRandom(seed: seed &+ 1000)
        var sim = Simulation(policy: .init(floor: .seconds(30))) { _ in
            let roll = replies.next() % 10
            if roll < 3 { return nil }
            return (interval: Int(replies.next() % 4000), min: roll < 6 ? Int(replies.next() % 900) : nil)
        }
        sim.run(for: .seconds(48 * 3600)) { sim in
            switch rng.next() % 2000 {
            case 0: sim.schedule.completed(now: sim.now)
            case 1: sim.schedule.reannounce(now: sim.now)
            default: break
            }
        }
        #expect(sim.sent.count > 48)
        #expect(sim.gaps.allSatisfy { $0 >= .seconds(15) })
        for (gap, answered) in zip(sim.gaps, sim.answered) where answered {
            #expect(gap >= .seconds(30), "an answered announce is followed by at least the floor")
        }
        let completedHeard = zip(sim.sent, sim.answered).filter { $0.0.event == .completed && $0.1 }.count
        #expect(completedHeard <= 1, "a tracker hears `completed` once at most (a failed one is retried)")
    }
}
