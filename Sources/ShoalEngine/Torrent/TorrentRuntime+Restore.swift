import Foundation
import ShoalCore

/// What a torrent's runtime keeps between runs: the totals and dates the session file records,
/// and the whole state a restore hands a runtime made for it.
extension TorrentRuntime {
    /// What the session records about this torrent between runs; returns the state it makes.
    @discardableResult
    func restoreCounters(uploaded: Int64, downloaded: Int64, completed: Date?, activity: Date?, seedWhenDone: Bool) -> PersistentState {
        uploadedBase = uploaded
        downloadedBase = downloaded
        completedAt = completed
        lastActivity = activity
        lastActivityTotal = uploadedBase + uploadedBytes + downloadedBase + downloadedBytes
        self.seedWhenDone = seedWhenDone
        return persistentState
    }

    /// What an earlier runtime of the same torrent left (a pause or a move makes a new one).
    func restore(_ state: PersistentState) {
        setFilePriorities(state.priorities)
        restoreCounters(uploaded: state.uploaded, downloaded: state.downloaded, completed: state.completed,
                        activity: state.activity, seedWhenDone: state.seedWhenDone)
    }

    var persistentState: PersistentState {
        PersistentState(uploaded: uploadedBase + uploadedBytes, downloaded: downloadedBase + downloadedBytes,
                        completed: completedAt, activity: lastActivity, seedWhenDone: seedWhenDone, priorities: filePriorities)
    }

    /// Notes the time if any payload moved since the last look.
    func noteActivity() {
        let total = uploadedBase + uploadedBytes + downloadedBase + downloadedBytes
        guard total != lastActivityTotal else { return }
        lastActivityTotal = total
        lastActivity = Date()
    }
}

/// What the session records about a torrent between runs (see `SessionStore.Entry`).
struct PersistentState: Sendable, Equatable {
    var uploaded: Int64
    var downloaded: Int64
    var completed: Date?
    var activity: Date?
    var seedWhenDone: Bool
    var priorities: [FilePriority]
}

/// How a torrent was left, handed to the runtime a restore makes for it: the runtime starts in
/// that state in one step, made off the session's actor in the threads that read the state
/// directory (set afterwards, it took ten actor hops per torrent, most of a 100,000-torrent start).
struct RestoredState: Sendable {
    var state: PersistentState
    /// Its resume data, looked at (not read) against the files when the runtime is made.
    var resume: ResumeData?
    /// It runs at once: what the resume data vouches for is kept for the check the run starts with.
    var forRun: Bool
    var uploadLimit: Int
    var downloadLimit: Int
    var seedRatioLimit: Double?
    /// The user's trackers in place of the metainfo's.
    var trackers: [[String]]?
    var sequential: Bool
    var peerLimit: Int
}
