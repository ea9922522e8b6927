import ShoalCore
import Synchronization

/// Moments worth acting on at once, for whoever listens: `--exit-when-done` quits on the last
/// completion instead of at its next progress line. Snapshots stay the way to read state; this
/// only says when to look.
public final class SessionEvents: Sendable {
    public enum Event: Sendable, Equatable {
        case completed(InfoHash)
        case failed(InfoHash)
        /// A peer was banned from the torrent, and why.
        case banned(InfoHash, peer: String, reason: String)
    }

    private struct Subscribers {
        var next = 0
        var continuations: [Int: AsyncStream<Event>.Continuation] = [:]
    }

    private let subscribers = Mutex(Subscribers())
    private let verified = Atomic<Int>(0)

    /// Pieces downloaded and verified by any torrent since the start: the session sees that
    /// downloads are under way without asking each torrent.
    var piecesVerified: Int { verified.load(ordering: .relaxed) }

    func pieceVerified() { verified.add(1, ordering: .relaxed) }

    public init() {}

    /// A stream of the events from now on; it ends when the caller stops iterating it.
    public func subscribe() -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(256))
        let id = subscribers.withLock { state in
            defer { state.next += 1 }
            state.continuations[state.next] = continuation
            return state.next
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.continuations.removeValue(forKey: id) }
        }
        return stream
    }

    func publish(_ event: Event) {
        subscribers.withLock { state in
            for continuation in state.continuations.values { continuation.yield(event) }
        }
    }
}
