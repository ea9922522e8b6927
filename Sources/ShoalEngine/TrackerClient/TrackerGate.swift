import ShoalCore
import Synchronization

/// The session's tracker pacing (`TrackerRequestPacer` on the real clock), shared by every
/// torrent and magnet: each announce and scrape waits here for its turn.
public final class TrackerGate: Sendable {
    private let pacer: Mutex<TrackerRequestPacer>
    /// Scrapes of one tracker for many torrents, sent together.
    let scrapes = ScrapeBatcher()

    public init(perSecond: Int) {
        pacer = Mutex(TrackerRequestPacer(perSecond: perSecond, now: .now))
    }

    /// Waits for the request's turn. False when it should not be sent: its turn is further off
    /// than `giveUpAfter`, or the task was cancelled while it waited.
    func admit(giveUpAfter: Duration? = nil) async -> Bool {
        guard let wait = pacer.withLock({ $0.reserve(now: .now, giveUpAfter: giveUpAfter) }) else { return false }
        if wait > .zero {
            do {
                try await Task.sleep(for: wait)
            } catch {
                return false
            }
        }
        return !Task.isCancelled
    }

    /// Requests waiting for their turn now.
    public var waiting: Int { pacer.withLock { $0.waiting(now: .now) } }
}
