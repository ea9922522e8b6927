import Foundation
@testable import ShoalEngine
import ShoalTestSupport
import Synchronization
import Testing

/// A torrent's tick timer: an event-loop timer, no waiting task; a ring brings the tick now.
@Suite("Tick timer")
struct TickTimerTests {
    final class Count: Sendable {
        private let value = Atomic<Int>(0)
        func add() { value.add(1, ordering: .relaxed) }
        var now: Int { value.load(ordering: .relaxed) }
    }

    /// A timer counting its ticks, and another that only says when `delay` has passed (the
    /// reference a "did not fire" check waits for instead of a fixed sleep).
    private func counted() -> (TickTimer, Count) {
        let count = Count()
        return (TickTimer { count.add() }, count)
    }

    private func waitOut(_ delay: Duration) async -> Bool {
        let (reference, passed) = counted()
        reference.arm(after: delay)
        return await SwarmHarness.poll(timeout: .seconds(60)) { passed.now == 1 }
    }

    @Test func aRingBringsAnArmedTickNow() async {
        let (timer, ticks) = counted()
        timer.arm(after: .seconds(600))
        #expect(timer.isArmed && ticks.now == 0)
        timer.ring()
        #expect(ticks.now == 1, "fired by the ring, not the time")
        #expect(!timer.isArmed)
        timer.stop()
    }

    @Test func aRingWithNothingArmedMakesTheNextArmFireAtOnce() async {
        let (timer, ticks) = counted()
        timer.ring()  // as if during a tick: nothing armed yet
        #expect(ticks.now == 0)
        timer.arm(after: .seconds(600))
        #expect(ticks.now == 1 && !timer.isArmed, "the ring was kept for the next arm")
        timer.arm(after: .seconds(600))
        #expect(ticks.now == 1 && timer.isArmed, "and spent on it")
        timer.stop()
    }

    @Test func theTimeFiresIt() async {
        let (timer, ticks) = counted()
        timer.arm(after: .milliseconds(20))
        #expect(await SwarmHarness.poll(timeout: .seconds(60)) { ticks.now == 1 })
        #expect(!timer.isArmed, "nothing left pending after it fired")
    }

    /// Each tick arms the next, 500 times, a few microseconds apart: a timer that fires before
    /// `arm` has stored it must still count (dropped, it would stop the torrent's tick for good).
    @Test func shortArmsAlwaysFire() async {
        let ticks = Count()
        let box = Mutex<TickTimer?>(nil)
        let timer = TickTimer {
            ticks.add()
            if ticks.now < 500 { box.withLock { $0 }?.arm(after: .microseconds(5)) }
        }
        box.withLock { $0 = timer }
        timer.arm(after: .microseconds(5))
        #expect(await SwarmHarness.poll(timeout: .seconds(60)) { ticks.now == 500 }, "ticks: \(ticks.now)")
        timer.stop()
        box.withLock { $0 = nil }
    }

    @Test func aNewArmReplacesTheOldOne() async {
        let (timer, ticks) = counted()
        timer.arm(after: .milliseconds(20))
        timer.arm(after: .seconds(600))
        #expect(await waitOut(.milliseconds(200)))
        #expect(ticks.now == 0, "the first arm's time passed, and it was replaced")
        timer.stop()
    }

    @Test func aStoppedTimerNeverFires() async {
        let (timer, ticks) = counted()
        timer.arm(after: .milliseconds(20))
        timer.stop()
        timer.ring()
        timer.arm(after: .zero)
        #expect(await waitOut(.milliseconds(200)))
        #expect(ticks.now == 0 && !timer.isArmed)
    }
}

/// On-demand work (announces, DHT announces): one round at a time, asks during a round
/// coalesced into one more.
@Suite("Coalesced work")
struct CoalescedWorkTests {
    @Test func asksDuringARoundMakeOneMore() {
        var work = CoalescedWork()
        let started = work.ask()
        #expect(started, "idle: start a round")
        let again = [work.ask(), work.ask()]
        #expect(again == [false, false], "under way: no second task")
        let more = work.roundEnded()
        #expect(more, "asked meanwhile: once more")
        let done = work.roundEnded()
        #expect(!done && !work.running, "then done")
        let later = work.ask()
        #expect(later, "and a later ask starts again")
        let last = work.roundEnded()
        #expect(!last && !work.running)
    }
}
