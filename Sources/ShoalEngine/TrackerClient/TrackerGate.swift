import ShoalCore
import Synchronization

/// The session's tracker pacing (`TrackerRequestPacer` on the real clock), shared by every
/// torrent and magnet: each announce and scrape waits here for its turn.
public final class TrackerGate: Sendable {
    private let pacer: Mutex<TrackerRequestPacer>
    /// Requests let go, per second (what the session sent, whatever the network did after).
    private let sentSeconds = Mutex(BusiestSecond())
    private let started = ContinuousClock.now
    /// Scrapes of one tracker for many torrents, sent together.
    let scrapes = ScrapeBatcher()

    public init(perSecond: Int) {
        pacer = Mutex(TrackerRequestPacer(perSecond: perSecond, now: .now))
    }

    /// Waits for the request's turn. False when it should not be sent: its turn is further off
    /// than `giveUpAfter`, or the task was cancelled while it waited.
    func admit(giveUpAfter: Duration? = nil) async -> Bool {
        guard var wait = pacer.withLock({ $0.reserve(now: .now, giveUpAfter: giveUpAfter) }) else { return false }
        // Its turn, then the moment it really goes: waiters that wake late together (a stalled
        // process) do not all go at once.
        while true {
            if wait > .zero {
                do {
                    try await Task.sleep(for: wait)
                } catch {
                    return false
                }
            }
            wait = pacer.withLock { $0.send(now: .now) }
            if wait == .zero { break }
        }
        let elapsed = ContinuousClock.now - started
        sentSeconds.withLock { $0.note(elapsed: elapsed) }
        return !Task.isCancelled
    }

    /// Requests waiting for their turn now.
    public var waiting: Int { pacer.withLock { $0.waiting(now: .now) } }

    /// The most requests let go in any one second so far.
    public var busiestSecond: Int { sentSeconds.withLock { $0.peak } }
}
