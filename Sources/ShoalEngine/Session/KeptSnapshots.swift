import Synchronization

/// A torrent's kept snapshot, by reference: reached from its entry (which clears it on any
/// change) and from `Session.restingSlots` (read without copying the entry). Locked, so an
/// entry stays `Sendable`; only the session's actor uses it, so the lock is never contended.
final class RestingSlot: Sendable {
    /// A running torrent's snapshot taken while it was quiet, and the runtime's count of
    /// changes then (see `TorrentRuntime.noteChange`).
    struct Quiet {
        let shared: SharedSnapshot
        let runtime: TorrentRuntime
        let changes: Int
        let taken: ContinuousClock.Instant
    }

    /// The longest a quiet torrent's kept snapshot is handed out: a bound on what a change
    /// nobody counted can cost (a second asked of 100,000 idle torrents every 30 s).
    static let quietFor: Duration = .seconds(30)

    private let value = Mutex<(resting: SharedSnapshot?, quiet: Quiet?)>((nil, nil))
    /// Set to nil by every change to the entry: that drops the quiet snapshot too.
    var snapshot: SharedSnapshot? {
        get { value.withLock { $0.resting } }
        set {
            value.withLock {
                $0.resting = newValue
                if newValue == nil { $0.quiet = nil }
            }
        }
    }

    /// The quiet snapshot, while its runtime is quiet and has counted no change since.
    func quiet(now: ContinuousClock.Instant) -> SharedSnapshot? {
        guard let kept = value.withLock({ $0.quiet }), now - kept.taken < Self.quietFor,
            kept.runtime.isQuiet.load(ordering: .acquiring), kept.runtime.snapshotChanges.load(ordering: .acquiring) == kept.changes
        else { return nil }
        return kept.shared
    }

    func keepQuiet(_ kept: Quiet) { value.withLock { $0.quiet = kept } }
}

/// A torrent's snapshot by reference. A resting one is handed out again, the same object, until
/// its torrent changes (see `Session.Entry.resting`), so what a caller derives from it may be
/// kept while the object stays the same.
final class SharedSnapshot: Sendable {
    let snapshot: TorrentSnapshot
    let resting: Bool
    init(_ snapshot: TorrentSnapshot, resting: Bool) {
        self.snapshot = snapshot
        self.resting = resting
    }
}
