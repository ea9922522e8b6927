import NIOCore
import NIOPosix
import Synchronization

/// When a torrent's next tick fires. No task waits for it: the time is an event-loop timer,
/// and firing hands the torrent a tick job (which runs as a short child task of its `run()`).
/// A sleeping task cost an idle torrent about 7 KiB (the sleep and the ring waiter each a child
/// task): with 100,000 torrents, most of them idle, that was most of their memory.
///
/// `ring` makes the tick come now: at once if one is pending, else as soon as the tick under
/// way asks for its next one.
final class TickTimer: Sendable {
    private struct State {
        var pending: Scheduled<Void>?
        /// Bumped by every arm and ring: a timer that fires late for an old arm does nothing.
        var generation = 0
        /// Rung with nothing pending (a tick is running, or none was armed yet).
        var rung = false
        var stopped = false
    }

    private let state = Mutex(State())
    private let fire: @Sendable () -> Void

    /// `fire`: what a tick coming does (hands the torrent a tick job).
    init(fire: @escaping @Sendable () -> Void) { self.fire = fire }

    /// The next tick comes after `delay`, or at once if it was rung meanwhile.
    func arm(after delay: Duration) {
        let armed = state.withLock { state -> Int? in
            guard !state.stopped else { return nil }
            state.pending?.cancel()
            state.pending = nil
            state.generation += 1
            if state.rung || delay <= .zero {
                state.rung = false
                return -1
            }
            return state.generation
        }
        guard let generation = armed else { return }
        if generation < 0 { return fire() }
        let nanoseconds = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
        let timer = MultiThreadedEventLoopGroup.singleton.next().scheduleTask(in: .nanoseconds(nanoseconds)) { [weak self] () -> Void in
            self?.fired(generation)
        }
        // A ring that came between the two locks found nothing pending and only said so.
        let now = state.withLock { state -> Bool? in
            guard !state.stopped, state.generation == generation else { return nil }
            if state.rung {
                state.rung = false
                state.generation += 1
                return true
            }
            state.pending = timer
            return false
        }
        if now != false { timer.cancel() }
        if now == true { fire() }
    }

    private func fired(_ generation: Int) {
        let current = state.withLock { state -> Bool in
            // Not `pending != nil`: the timer may fire before `arm` has stored it.
            guard !state.stopped, state.generation == generation else { return false }
            state.pending = nil
            state.generation += 1
            return true
        }
        if current { fire() }
    }

    /// Now, not at the armed time.
    func ring() {
        let now = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            guard let pending = state.pending else {
                state.rung = true
                return false
            }
            pending.cancel()
            state.pending = nil
            state.generation += 1
            return true
        }
        if now { fire() }
    }

    /// No tick ever again (the torrent's run has ended).
    func stop() {
        let pending = state.withLock { state -> Scheduled<Void>? in
            state.stopped = true
            defer { state.pending = nil }
            return state.pending
        }
        pending?.cancel()
    }

    /// A tick is armed and waiting for its time (for tests).
    var isArmed: Bool { state.withLock { $0.pending != nil } }
}
