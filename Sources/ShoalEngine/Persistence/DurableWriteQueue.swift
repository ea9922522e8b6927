import Dispatch

/// The state directory's writes, one at a time in the order they were asked for, on a serial
/// dispatch queue. Each ends in an fsync, which can take seconds while torrents write hundreds
/// of megabytes; on an actor it would hold one of the cooperative pool's few threads (two on a
/// 2-core machine) and stall every torrent, the interface and the RPC with it.
final class DurableWriteQueue: Sendable {
    private let queue = DispatchQueue(label: "shoal.state-writes")

    /// Runs `job` after everything asked before it, and waits for it.
    func run<T: Sendable>(_ job: @escaping @Sendable () throws -> T) async throws -> T {
        // The closure runs at once, on the caller's executor: the order of the calls is the order
        // of the queue.
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try job() }) }
        }
    }

    /// Queues `job` without waiting; `failed` hears of its error (from the queue's thread).
    func submit(_ job: @escaping @Sendable () throws -> Void, failed: @escaping @Sendable (any Error) -> Void) {
        queue.async {
            do { try job() } catch { failed(error) }
        }
    }

    /// Returns once everything asked before it has landed.
    func drain() async {
        await withCheckedContinuation { continuation in queue.async { continuation.resume() } }
    }
}
