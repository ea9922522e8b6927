import Foundation
@testable import ShoalEngine
import ShoalTestSupport
import Synchronization
import Testing

/// An idle torrent's long tick sleep ends at once when it is needed sooner.
@Suite("Tick alarm")
struct TickAlarmTests {
    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .relaxed) }
        var isSet: Bool { value.load(ordering: .relaxed) }
    }

    /// A task asleep on `alarm` for ten minutes, and the flag it raises when its sleep ends.
    private func longSleeper(on alarm: TickAlarm) -> (Task<Void, Never>, Flag) {
        let woke = Flag()
        let sleeper = Task {
            await alarm.sleep(for: .seconds(600))
            woke.set()
        }
        return (sleeper, woke)
    }

    @Test func aRingEndsALongSleep() async {
        let alarm = TickAlarm()
        let (sleeper, woke) = longSleeper(on: alarm)
        #expect(await SwarmHarness.poll(timeout: .seconds(60)) { alarm.isSleeping })
        alarm.ring()
        #expect(await SwarmHarness.poll(timeout: .seconds(60)) { woke.isSet }, "woken by the ring, not the time")
        sleeper.cancel()
        await sleeper.value
    }

    @Test func aRingWhileAwakeEndsTheNextSleepOnly() async {
        let alarm = TickAlarm()
        alarm.ring()
        await alarm.sleep(for: .seconds(600))  // returns at once: the ring was kept
        let (sleeper, woke) = longSleeper(on: alarm)
        #expect(await SwarmHarness.poll(timeout: .seconds(60)) { alarm.isSleeping })
        #expect(!woke.isSet, "the ring was spent on the first sleep")
        sleeper.cancel()
        await sleeper.value
        #expect(woke.isSet, "cancelling the sleeper ends its sleep")
    }

    /// The time can run out before the ring waiter has even started, and the sleep must still
    /// end (a waiter left behind would stop the torrent's tick for good). Many very short
    /// sleeps make that order likely under load; it is not forced, so this is a smoke test
    /// beside the reasoning in `waitForRing`.
    @Test func shortSleepsAlwaysEnd() async {
        let alarm = TickAlarm()
        let done = Flag()
        let sleeper = Task {
            for _ in 0..<500 { await alarm.sleep(for: .microseconds(50)) }
            done.set()
        }
        #expect(await SwarmHarness.poll(timeout: .seconds(60)) { done.isSet }, "every sleep ended")
        sleeper.cancel()
        await sleeper.value
    }

    @Test func withoutARingTheTimeEndsIt() async {
        let alarm = TickAlarm()
        await alarm.sleep(for: .milliseconds(20))
        #expect(!alarm.isSleeping, "nothing left waiting after the time ran out")
    }
}
