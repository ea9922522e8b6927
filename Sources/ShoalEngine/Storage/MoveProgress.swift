import Foundation
import Synchronization

/// How far a move of a torrent's data has come, written by the copy on the I/O pool and read by
/// snapshots. A rename finishes at once; a copy across filesystems counts its bytes.
public final class MoveProgress: Sendable {
    public let destination: String
    private let counts = Mutex((done: Int64(0), total: Int64(0)))
    private let stop = Atomic(false)

    public init(destination: String) { self.destination = destination }

    public func start(total: Int64) { counts.withLock { $0 = (0, total) } }
    public func add(_ bytes: Int64) { counts.withLock { $0.done += bytes } }

    /// Asks the copy to give up (the session is shutting down): it removes what it copied and
    /// leaves the data where it was.
    public func cancel() { stop.store(true, ordering: .relaxed) }
    public var isCancelled: Bool { stop.load(ordering: .relaxed) }

    /// 0...1; 0 before the copy has measured what it has to move.
    public var fraction: Double {
        counts.withLock { $0.total > 0 ? min(1, Double($0.done) / Double($0.total)) : 0 }
    }
}

/// A move in progress as a snapshot shows it.
public struct MoveSnapshot: Sendable, Hashable {
    public var destination: String
    public var fraction: Double
}
