import Logging
import Synchronization

/// The last lines of the engine's log (info and up), for the interface's Log view and for
/// `shoal attach`, which asks for those after the last it saw. Fed by a `LineLogHandler`.
public final class RecentLog: Sendable {
    public static let capacity = 500

    private struct State {
        var lines: [String] = []
        /// Lines ever appended: a reader's position survives lines falling off the front.
        var count = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func append(_ line: String) {
        state.withLock { state in
            state.lines.append(line)
            state.count += 1
            if state.lines.count > Self.capacity + Self.capacity / 4 { state.lines.removeFirst(state.lines.count - Self.capacity) }
        }
    }

    /// The lines after the `after`-th (as many as are still kept, at most `capacity`), and
    /// how many there have been.
    public func lines(after: Int) -> (count: Int, lines: [String]) {
        state.withLock { state in
            let new = max(0, min(state.count - after, state.lines.count, Self.capacity))
            return (state.count, Array(state.lines.suffix(new)))
        }
    }

    /// A handler that keeps lines at `level` and above here.
    public func handler(level: Logger.Level = .info) -> LineLogHandler {
        LineLogHandler(level: level) { [self] line in append(line) }
    }
}
