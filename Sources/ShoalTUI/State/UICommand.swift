import ShoalCore
import ShoalEngine

/// What the user asked the engine to do, from a key press.
public enum UICommand: Sendable, Equatable {
    case add(path: String)
    case pause(InfoHash)
    case resume(InfoHash)
    case setSeeding(InfoHash, Bool)
    case remove(InfoHash, deleteData: Bool)
    case setFilePriorities(InfoHash, [FilePriority])
    case verify(InfoHash)
    /// Announce as soon as the trackers' `min interval` allows.
    case reannounce(InfoHash)
    /// KiB/s; nil leaves that direction as it is; 0 = unlimited.
    case setGlobalLimits(uploadKiB: Int?, downloadKiB: Int?)
    /// One torrent's caps, KiB/s; nil leaves that direction as it is; 0 = none.
    case setTorrentLimits(InfoHash, uploadKiB: Int?, downloadKiB: Int?)
    /// The alternative ("turtle") limits on or off.
    case setAltSpeed(Bool)
    /// Moves the torrent's data into `directory` while it runs.
    case move(InfoHash, directory: String)
    case setLabels(InfoHash, [String])
    /// Pieces in order, each file's first and last first (for watching while it downloads).
    case setSequential(InfoHash, Bool)
    /// A place in the queue: one up or down, or to the top or bottom.
    case moveInQueue(InfoHash, Session.QueueMove)
    /// Closes the connection to a peer ("HOST:PORT"), and with `ban` refuses its address.
    case closePeer(InfoHash, address: String, ban: Bool)
    /// Replaces the torrent's trackers: tiers of URLs, tried in order.
    case setTrackers(InfoHash, [[String]])
    /// Nothing to carry out, only a fresh snapshot wanted: the details of a torrent just
    /// opened come with it (the periodic ones carry every torrent's list fields only).
    case refresh
    case quit
}
