import Foundation
import ShoalCore

extension Session {
    /// A torrent in the session, in either phase: a magnet link fetching its info dictionary,
    /// or a torrent with it. Commands act on the entry; only what differs looks at the phase.
    ///
    /// A value, kept in one box shared by its copies until one of them changes (copy on
    /// write): the queue and the snapshots read 100,000 entries out of the table, and a copy of
    /// each of twenty fields (a dozen references to retain and release) was most of a queue
    /// plan, one per torrent added through the RPC. A change to what the snapshot shows makes
    /// a resting torrent's kept snapshot stale (see `resting`).
    struct Entry: Sendable {
        enum Phase: Sendable {
            case metadata(MetadataFetcher)
            case torrent(TorrentRuntime)
        }

        /// Changed only through `owned()`, when no other value shares it (as Array's buffer is):
        /// a box one thread changes is never one another reads.
        private final class Storage: @unchecked Sendable {
            var phase: Phase
            var stop: RunStop? = nil
            var paused: Bool
            var downloadDirectory: String
            var added: Date
            var uploadLimit: Int = 0
            var downloadLimit: Int = 0
            var labels: [String] = []
            var seedRatio: SeedRatioGoal = .session
            var peerLimit: Int? = nil
            var trackers: [[String]]? = nil
            var sequential: Bool = false
            var queued: Bool = false
            var startPending: Bool = false
            var queueComplete: Bool = false
            var lastReceived: (bytes: Int64, at: ContinuousClock.Instant)? = nil
            var queueLook: (changes: Int, at: ContinuousClock.Instant)? = nil
            var move: MoveProgress? = nil
            /// Where `resting` lives, shared with `Session.restingSlots` (and by every copy).
            let restingSlot: RestingSlot

            init(phase: Phase, stop: RunStop?, paused: Bool, downloadDirectory: String, added: Date,
                 restingSlot: RestingSlot = RestingSlot()) {
                self.restingSlot = restingSlot
                self.phase = phase
                self.stop = stop
                self.paused = paused
                self.downloadDirectory = downloadDirectory
                self.added = added
            }

            /// Another box with the same fields (the resting slot too, as a copy of a value has).
            func copy() -> Storage {
                let copy = Storage(phase: phase, stop: stop, paused: paused, downloadDirectory: downloadDirectory, added: added,
                                   restingSlot: restingSlot)
                copy.uploadLimit = uploadLimit
                copy.downloadLimit = downloadLimit
                copy.labels = labels
                copy.seedRatio = seedRatio
                copy.peerLimit = peerLimit
                copy.trackers = trackers
                copy.sequential = sequential
                copy.queued = queued
                copy.startPending = startPending
                copy.queueComplete = queueComplete
                copy.lastReceived = lastReceived
                copy.queueLook = queueLook
                copy.move = move
                return copy
            }
        }

        private var storage: Storage

        init(phase: Phase, stop: RunStop?, paused: Bool, downloadDirectory: String, added: Date) {
            storage = Storage(phase: phase, stop: stop, paused: paused, downloadDirectory: downloadDirectory, added: added)
        }

        /// The box, made this value's own before a change.
        private mutating func owned() -> Storage {
            if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
            return storage
        }

        var phase: Phase {
            get { storage.phase }
            set {
                owned().phase = newValue
                resting = nil
            }
        }
        var runtime: TorrentRuntime? {
            if case .torrent(let runtime) = phase { return runtime }
            return nil
        }
        /// Ends the torrent's run (or the magnet's task): pause or remove.
        var stop: RunStop? {
            get { storage.stop }
            set { owned().stop = newValue }
        }
        var paused: Bool {
            get { storage.paused }
            set {
                owned().paused = newValue
                resting = nil
            }
        }
        var downloadDirectory: String {
            get { storage.downloadDirectory }
            set {
                owned().downloadDirectory = newValue
                resting = nil
            }
        }
        var added: Date {
            get { storage.added }
            set {
                owned().added = newValue
                resting = nil
            }
        }
        /// Per-torrent caps in bytes per second, 0 = none.
        var uploadLimit: Int {
            get { storage.uploadLimit }
            set {
                owned().uploadLimit = newValue
                resting = nil
            }
        }
        var downloadLimit: Int {
            get { storage.downloadLimit }
            set {
                owned().downloadLimit = newValue
                resting = nil
            }
        }
        /// Free-form tags a remote sets (Transmission's `labels`).
        var labels: [String] {
            get { storage.labels }
            set {
                owned().labels = newValue
                resting = nil
            }
        }
        /// The ratio goal: the session's, the torrent's own, or none.
        var seedRatio: SeedRatioGoal {
            get { storage.seedRatio }
            set {
                owned().seedRatio = newValue
                resting = nil
            }
        }
        /// Its own connection limit (nil: the session's).
        var peerLimit: Int? {
            get { storage.peerLimit }
            set {
                owned().peerLimit = newValue
                resting = nil
            }
        }
        /// The user's trackers in place of the metainfo's (nil: the metainfo's).
        var trackers: [[String]]? {
            get { storage.trackers }
            set {
                owned().trackers = newValue
                resting = nil
            }
        }
        var sequential: Bool {
            get { storage.sequential }
            set {
                owned().sequential = newValue
                resting = nil
            }
        }
        /// Wants to run, waits for a slot (paused meanwhile; see `QueuePlanner`).
        var queued: Bool {
            get { storage.queued }
            set {
                owned().queued = newValue
                resting = nil
            }
        }
        /// Restored to run, waiting its turn to start (shown as queued; a pause clears it).
        var startPending: Bool {
            get { storage.startPending }
            set {
                owned().startPending = newValue
                resting = nil
            }
        }
        /// What the queue knows of it: complete (seeds), and when it last received something.
        var queueComplete: Bool {
            get { storage.queueComplete }
            set { owned().queueComplete = newValue }
        }
        var lastReceived: (bytes: Int64, at: ContinuousClock.Instant)? {
            get { storage.lastReceived }
            set { owned().lastReceived = newValue }
        }
        /// When the queue last asked its runtime, and the runtime's count of changes then.
        var queueLook: (changes: Int, at: ContinuousClock.Instant)? {
            get { storage.queueLook }
            set { owned().queueLook = newValue }
        }
        /// Its data on the way to another directory (see `setLocation`).
        var move: MoveProgress? {
            get { storage.move }
            set {
                owned().move = newValue
                resting = nil
            }
        }
        /// A paused torrent's finished snapshot, taken once and handed out as the same object
        /// until something changes: 10,000 paused torrents cost a look-up each per snapshot, not
        /// an actor hop and a walk over their pieces and files, and a caller may keep what it
        /// made of one (the RPC's rows) for as long as it gets the same object back.
        var resting: SharedSnapshot? {
            get { restingSlot.snapshot }
            nonmutating set { restingSlot.snapshot = newValue }
        }
        var restingSlot: RestingSlot { storage.restingSlot }
    }
}
