import Synchronization

/// A torrent's kept snapshot, by reference: reached from its entry (which clears it on any
/// change) and from `Session.restingSlots` (read without copying the entry). Locked, so an
/// entry stays `Sendable`; only the session's actor uses it, so the lock is never contended.
final class RestingSlot: Sendable {
    /// A running torrent's snapshot taken while it was quiet, and the runtime's count of
    /// changes then (see `TorrentRuntime.noteChange`).
    /// A class: looked at for each of 100,000 torrents per snapshot, a struct was copied out
    /// (two retains and releases) to be read.
    final class Quiet: Sendable {
        let shared: SharedSnapshot
        let runtime: TorrentRuntime
        let changes: Int
        let taken: ContinuousClock.Instant

        init(shared: SharedSnapshot, runtime: TorrentRuntime, changes: Int, taken: ContinuousClock.Instant) {
            self.shared = shared
            self.runtime = runtime
            self.changes = changes
            self.taken = taken
        }
    }

    /// The longest a quiet torrent's kept snapshot is handed out: a bound on what a change
    /// nobody counted can cost. At 30 s, 100,000 idle torrents were each asked again every
    /// 30 s: 3,300 actor hops a second for snapshots that had not changed.
    static let quietFor: Duration = .seconds(300)

    private let value = Mutex<(resting: SharedSnapshot?, quiet: Quiet?)>((nil, nil))
    private let handedOut = Mutex<SharedSnapshot?>(nil)
    private let watching = Mutex<KeptWatcher?>(nil)

    /// Told when a command clears what is kept here (set by the session, see `KeptInvalidations`).
    var watcher: KeptWatcher? {
        get { watching.withLock { $0 } }
        set { watching.withLock { $0 = newValue } }
    }

    /// The snapshot last made of this torrent: a new one equal to it is handed out as this
    /// object instead (see `TorrentList`).
    var lastHandedOut: SharedSnapshot? {
        get { handedOut.withLock { $0 } }
        set { handedOut.withLock { $0 = newValue } }
    }
    /// Set to nil by every change to the entry: that drops the quiet snapshot too.
    var snapshot: SharedSnapshot? {
        get { value.withLock { $0.resting } }
        set {
            value.withLock {
                $0.resting = newValue
                if newValue == nil { $0.quiet = nil }
            }
            // What the session's last look found kept here is gone (see `SnapshotScan`).
            if newValue == nil { watcher?.invalidate() }
        }
    }

    /// The resting snapshot, or else (for the list alone) the quiet one while it holds; looked
    /// at under the lock, so nothing but the answer is retained.
    func kept(listOnly: Bool, now: ContinuousClock.Instant) -> SharedSnapshot? {
        value.withLock { value in
            if let resting = value.resting { return resting }
            guard listOnly, let quiet = value.quiet, now - quiet.taken < Self.quietFor, quiet.runtime.isQuiet.load(ordering: .acquiring),
                quiet.runtime.snapshotChanges.load(ordering: .acquiring) == quiet.changes
            else { return nil }
            return quiet.shared
        }
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
