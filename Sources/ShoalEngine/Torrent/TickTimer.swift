import NIOCore
import NIOPosix
import Synchronization

/// When a torrent's next tick fires. No task waits for it: the time is an event-loop timer,
/// and firing hands the torrent a tick job (which runs as a short child task of its `run()`).
/// A sleeping task cost an idle torrent about 7 KiB (the sleep and the ring waiter each a child
/// task): with 100,000 torrents, most of them idle, that was most of their memory.
///
/// A timer is never cancelled: one replaced (by a new arm, a ring or a stop) fires at its time
/// and does nothing, told apart by its generation. NIO finds a cancelled timer by a linear
/// search of its loop's timers, and 100,000 torrents each cancelling one at every re-arm and at
/// quit spent most of a 40-second quit doing that.
///
/// `ring` makes the tick come now: at once if one is pending, else as soon as the tick under
/// way asks for its next one.
final class TickTimer: Sendable {
    private struct State {
        /// Bumped by every arm, fire, ring and stop: a timer that fires for an old arm does nothing.
        var generation = 0
        /// A timer is on its way for the current generation.
        var armed = false
        /// Rung with nothing armed (a tick is running, or none was armed yet).
        var rung = false
        var stopped = false
    }

    private let state = Mutex(State())
    /// Every torrent's timers on one loop of their own: the connections' loops keep short
    /// timer lists, so cancelling a connection's timeout stays cheap with 100,000 torrents.
    private static let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()
    private let fire: @Sendable () -> Void

    /// `fire`: what a tick coming does (hands the torrent a tick job).
    init(fire: @escaping @Sendable () -> Void) { self.fire = fire }

    /// The next tick comes after `delay`, or at once if it was rung meanwhile.
    func arm(after delay: Duration) {
        let armed = state.withLock { state -> Int? in
            guard !state.stopped else { return nil }
            state.generation += 1
            state.armed = false
            if state.rung || delay <= .zero {
                state.rung = false
                return -1
            }
            state.armed = true
            return state.generation
        }
        guard let generation = armed else { return }
        if generation < 0 { return fire() }
        let nanoseconds = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
        Self.loop.scheduleTask(in: .nanoseconds(nanoseconds)) { [weak self] () -> Void in
            self?.fired(generation)
        }
    }

    private func fired(_ generation: Int) {
        let current = state.withLock { state -> Bool in
            guard !state.stopped, state.armed, state.generation == generation else { return false }
            state.armed = false
            state.generation += 1
            return true
        }
        if current { fire() }
    }

    /// Now, not at the armed time.
    func ring() {
        let now = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            guard state.armed else {
                state.rung = true
                return false
            }
            state.armed = false
            state.generation += 1
            return true
        }
        if now { fire() }
    }

    /// No tick ever again (the torrent's run has ended).
    func stop() {
        state.withLock { state in
            state.stopped = true
            state.armed = false
            state.generation += 1
        }
    }

    /// A tick is armed and waiting for its time (for tests).
    var isArmed: Bool { state.withLock { $0.armed } }
}
