import Synchronization

/// Lets an idle torrent's tick sleep long (a minute: most of a large session's torrents have
/// nothing to do), and anything that needs the tick sooner — a peer joining, a dial failing,
/// new addresses — end the sleep at once with `ring`.
final class TickAlarm: Sendable {
    private struct State {
        var waiter: CheckedContinuation<Void, Never>?
        /// Rung while nobody slept: the next sleep ends at once.
        var rung = false
    }

    private let state = Mutex(State())

    /// Sleeps for `delay`, or until `ring`, whichever comes first.
    func sleep(for delay: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: delay) }
            group.addTask { await self.waitForRing() }
            await group.next()
            // Ends the other: the sleep throws, the ring waiter returns (see `waitForRing`).
            group.cancelAll()
        }
    }

    /// Someone is sleeping on the alarm now (for tests).
    var isSleeping: Bool { state.withLock { $0.waiter != nil } }

    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns on a ring, or when cancelled. A cancel that comes before the continuation is
    /// stored is seen when it is (the task is marked cancelled before the handler runs), so
    /// the waiter can never be left behind, whichever of the two ends first.
    private func waitForRing() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if state.rung {
                        state.rung = false
                        return true
                    }
                    if Task.isCancelled { return true }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
