import Synchronization

/// The jobs handed to a torrent's `run()`, and whether a `run()` is there to take them.
///
/// With `wake` set, a run with nothing under way ends ("dormant") instead of waiting: its task
/// and task group held about 5 KiB each for every idle torrent, a third of a 100,000-torrent
/// session's memory. The next job to come (the tick's timer, a dial, a command) calls `wake`,
/// which starts a new `run()` under the session to take it. Without `wake`, a run waits for
/// its jobs as long as it lives.
final class RuntimeJobQueue: Sendable {
    private struct State {
        var jobs: [RuntimeJob] = []
        var waiter: CheckedContinuation<RuntimeJob, Never>?
        var dormant = false
        var wake: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    /// What starts a new `run()` for a dormant torrent (the session's spawn).
    func setWake(_ wake: @escaping @Sendable () -> Void) {
        state.withLock { $0.wake = wake }
    }

    /// Hands `job` to the run waiting for one, keeps it for the next `next()`, or wakes a
    /// dormant torrent to take it.
    func submit(_ job: RuntimeJob) {
        enum Then { case resume(CheckedContinuation<RuntimeJob, Never>), wake(@Sendable () -> Void), nothing }
        let then = state.withLock { state -> Then in
            if let waiter = state.waiter {
                state.waiter = nil
                return .resume(waiter)
            }
            state.jobs.append(job)
            guard state.dormant, let wake = state.wake else { return .nothing }
            state.dormant = false
            return .wake(wake)
        }
        switch then {
        case .resume(let waiter): waiter.resume(returning: job)
        case .wake(let wake): wake()
        case .nothing: break
        }
    }

    /// The next job, waiting for one; `.end` if the waiting task is cancelled.
    func next() async -> RuntimeJob {
        if let job = state.withLock({ $0.jobs.isEmpty ? nil : $0.jobs.removeFirst() }) { return job }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let job = state.withLock { state -> RuntimeJob? in
                    if !state.jobs.isEmpty { return state.jobs.removeFirst() }
                    if Task.isCancelled { return .end }
                    state.waiter = continuation
                    return nil
                }
                if let job { continuation.resume(returning: job) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<RuntimeJob, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: .end)
        }
    }

    /// True, and the torrent dormant, when no job waits and a `wake` can start it again: the
    /// run that asked may end.
    func sleepIfIdle() -> Bool {
        state.withLock { state in
            guard state.jobs.isEmpty, state.wake != nil else { return false }
            state.dormant = true
            return true
        }
    }

    /// No run is there to take jobs (for tests).
    var isDormant: Bool { state.withLock { $0.dormant } }
    /// A run waits for a job (for tests).
    var isWaiting: Bool { state.withLock { $0.waiter != nil } }
}
