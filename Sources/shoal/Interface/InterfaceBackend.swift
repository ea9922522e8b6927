import Foundation
import ShoalCore
import ShoalEngine
import ShoalTUI
import Synchronization

/// What the full-screen interface runs on: the session in this process, or a daemon reached
/// through its RPC (`shoal attach`). The interface only reads snapshots and sends commands,
/// so both look the same to it.
protocol InterfaceBackend: Sendable {
    /// The state now; `selected` is the torrent whose details are open (a remote backend
    /// fetches its pieces, peers and files). Throws when the state cannot be had.
    func refresh(selected: InfoHash?) async throws -> SessionSnapshot
    /// Notices since the last call.
    func notices() async -> [String]
    /// The engine's log lines since the last call (the first call: the last few hundred).
    func newLogLines() async -> [String]
    func freeDiskBytes() async -> Int64?
    /// Carries out one command; returns a line to show the user.
    func perform(_ command: UICommand) async -> String?
    /// "attached to …" in the title; nil for the local session.
    var title: String? { get }
    /// Whether quitting leaves the engine running (and so asks nothing first).
    var detaches: Bool { get }
}

/// The session in this process.
final class LocalBackend: InterfaceBackend {
    let session: Session
    let downloadDirectory: String
    /// Log lines already handed to the interface (only the refresh task asks).
    let logSeen = Atomic<Int>(0)

    init(session: Session, downloadDirectory: String) {
        self.session = session
        self.downloadDirectory = downloadDirectory
    }

    var title: String? { nil }
    var detaches: Bool { false }

    /// The list needs every torrent, the detail view only the selected one's pieces and files.
    func refresh(selected: InfoHash?) async -> SessionSnapshot { await session.snapshot(detailed: selected.map { [$0] } ?? []) }

    func notices() async -> [String] { await session.takeErrors() }

    func newLogLines() async -> [String] {
        let (count, lines) = session.recentLog(after: logSeen.load(ordering: .relaxed))
        logSeen.store(count, ordering: .relaxed)
        return lines
    }

    func freeDiskBytes() async -> Int64? { DiskSpace.of(downloadDirectory)?.free }

    func perform(_ command: UICommand) async -> String? {
        do {
            switch command {
            case .add(let path):
                let source = try TorrentSource.load(TorrentSource.expanded(path))
                try await session.add(source)
                return "added \(source.name)"
            case .pause(let id): try await session.pause(id)
            case .resume(let id): try await session.resume(id)
            case .setSeeding(let id, let seed): try await session.setSeeding(id, seed)
            case .remove(let id, let deleteData): try await session.remove(id, deleteData: deleteData)
            case .setFilePriorities(let id, let priorities): try await session.setFilePriorities(id, priorities)
            case .verify(let id): try await session.verify(id)
            case .reannounce(let id): try await session.reannounce(id)
            case .setGlobalLimits(let up, let down):
                let snapshot = await session.snapshot()
                await session.setGlobalLimits(upload: up.map { $0 * 1024 } ?? snapshot.uploadLimit,
                                              download: down.map { $0 * 1024 } ?? snapshot.downloadLimit)
            case .setTorrentLimits(let id, let up, let down):
                guard let torrent = await session.snapshot().torrents.first(where: { $0.id == id }) else { return "no such torrent" }
                try await session.setTorrentLimits(id, upload: up.map { $0 * 1024 } ?? torrent.details.uploadLimit,
                                                   download: down.map { $0 * 1024 } ?? torrent.details.downloadLimit)
            case .setAltSpeed(let enabled): await session.setAltSpeed(enabled: enabled)
            case .move(let id, let directory):
                try await session.startMove(id, directory: TorrentSource.expanded(directory))
                return "moving the data to \(directory)"
            case .setLabels(let id, let labels): try await session.setLabels(id, labels)
            case .closePeer(let id, let address, let ban):
                try await session.closePeer(id, address: address, ban: ban)
                return ban ? "banned \(address)" : "closed the connection to \(address)"
            case .setTrackers(let id, let tiers): try await session.setTrackers(id, tiers)
            case .setSequential(let id, let on): try await session.setSequential(id, on)
            case .moveInQueue(let id, let move): try await session.moveInQueue(id, move)
            case .quit, .refresh: break
            }
            return nil
        } catch {
            return "\(error)"
        }
    }
}
