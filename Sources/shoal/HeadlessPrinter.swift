import Foundation
import ShoalCore
import ShoalEngine
import ShoalTUI

/// The headless mode's output: one progress line per torrent per interval, an event line when a
/// torrent completes or fails. Stops when the session stops, or once all are done if asked.
struct HeadlessPrinter {
    let session: Session
    let interval: Duration
    let exitWhenDone: Bool
    /// At `--log-level debug`: a `closed:` line for a torrent whenever its close counts change,
    /// and a `peer:` line for each peer as it connects, with its flags (`E`: encrypted).
    var showsCloses = false

    /// Returns why it stopped early when `exitWhenDone` met a torrent that cannot complete (in
    /// error); nil otherwise.
    func run() async -> String? {
        // A line each interval, and one at once when a torrent completes or fails, so
        // `--exit-when-done` quits as soon as it can.
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let events = session.events.subscribe()
        let bans = BanNotices()
        return await withTaskGroup(of: String?.self) { group in
            group.addTask {
                for await event in events {
                    if case .banned(let hash, let peer, let reason) = event { await bans.add(hash, "\(peer): \(reason)") }
                    wake.yield()
                }
                return nil
            }
            group.addTask {
                while (try? await Task.sleep(for: interval)) != nil { wake.yield() }
                return nil
            }
            let failure = await follow(wakes, bans: bans)
            group.cancelAll()
            return failure
        }
    }

    private func follow(_ wakes: AsyncStream<Void>, bans: BanNotices) async -> String? {
        var announced: Set<InfoHash> = []
        var failed: Set<InfoHash> = []
        var trackerLines: [String: String] = [:]
        var closeLines: [InfoHash: String] = [:]
        var connected: [InfoHash: Set<String>] = [:]
        var wakes = wakes.makeAsyncIterator()
        while !Task.isCancelled {
            let snapshot = await session.snapshot()
            for notice in await session.takeErrors() { say("notice: \(notice)") }
            for (hash, text) in await bans.take() {
                say("banned: \(snapshot.torrents.first { $0.id == hash }?.name ?? hash.hex): \(text)")
            }
            for torrent in snapshot.torrents {
                say(Self.line(torrent))
                if torrent.isComplete && torrent.activity != .checking && announced.insert(torrent.id).inserted {
                    say("completed: \(torrent.name) (\(torrent.pieces.setCount)/\(torrent.pieces.count) pieces verified)")
                }
                if let error = torrent.error, failed.insert(torrent.id).inserted {
                    say("error: \(torrent.name): \(error)")
                }
                if showsCloses, torrent.closeReasons.total > 0, closeLines.updateValue(torrent.closeReasons.summary, forKey: torrent.id)
                    != torrent.closeReasons.summary {
                    say("closed: \(torrent.name): \(torrent.closeReasons.summary)")
                }
                if showsCloses {
                    let before = connected[torrent.id] ?? []
                    for peer in torrent.peers where !before.contains(peer.address) {
                        say("peer: \(torrent.name): \(peer.address) \(peer.client) flags \(peer.flags.isEmpty ? "-" : peer.flags)")
                    }
                    connected[torrent.id] = Set(torrent.peers.map(\.address))
                }
                for tracker in torrent.trackers {
                    guard let state = Self.trackerState(tracker) else { continue }
                    let key = torrent.id.hex + " " + tracker.url
                    if trackerLines.updateValue(state, forKey: key) != state { say("tracker: \(torrent.name): \(tracker.url): \(state)") }
                }
            }
            let all = snapshot.torrents
            if exitWhenDone, let broken = all.first(where: { $0.activity == .error }) {
                return "\(broken.name): \(broken.error ?? "stopped by an error"); it cannot complete"
            }
            if exitWhenDone && !all.isEmpty && all.allSatisfy({ $0.isComplete && $0.activity != .checking }) { return nil }
            if exitWhenDone && all.isEmpty { return nil }
            guard await wakes.next() != nil else { return nil }
        }
        return nil
    }

    /// A tracker's settled state worth a line when it changes; nil while it is still trying.
    static func trackerState(_ tracker: TrackerSnapshot) -> String? {
        if let error = tracker.error { return "error: \(error)" }
        return tracker.status.hasPrefix("working") ? tracker.status : nil
    }

    static func line(_ torrent: TorrentSnapshot) -> String {
        let percent = ByteCount.fixed(torrent.progress * 100, digits: 1)
        let eta = torrent.eta.map { Format.eta($0).replacingOccurrences(of: " ", with: "") } ?? (torrent.isComplete ? "done" : "-")
        var line = "\(torrent.name)  \(torrent.activity.rawValue)  \(percent)%  "
        line += "down \(ByteCount.format(Int64(torrent.downloadRate)))/s  up \(ByteCount.format(Int64(torrent.uploadRate)))/s  "
        line += "peers \(torrent.peers.count) (\(torrent.seedCount) seeds)  eta \(eta)"
        return line
    }
}

/// Bans reported by the session, waiting for the next lines.
actor BanNotices {
    private var pending: [(InfoHash, String)] = []
    func add(_ hash: InfoHash, _ text: String) { pending.append((hash, text)) }
    func take() -> [(InfoHash, String)] {
        defer { pending.removeAll() }
        return pending
    }
}

/// What the printer ended with, handed from its task to the command.
actor PrinterOutcome {
    private(set) var failure: String?
    func set(_ failure: String?) { self.failure = failure }
}
