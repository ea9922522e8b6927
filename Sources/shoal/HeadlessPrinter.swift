import Foundation
import ShoalCore
import ShoalEngine
import ShoalTUI

/// The headless mode's output: one progress line per torrent per interval (above
/// `everyLineUpTo` torrents, only for the busy and the changed, and a summary), an event line
/// when a torrent completes or fails. Stops when the session stops, or once all are done if asked.
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
        // A large session: the list last looked at, and the state each torrent was last seen in.
        var previous: TorrentList?
        var seenActivity: [InfoHash: TorrentActivity] = [:]
        // The first look at a large session has passed: a torrent seen for the first time
        // after it was added since, and its completing is news even if it came within one look.
        var lookedLarge = false
        while !Task.isCancelled {
            // The list's snapshot (no files, availability or peers' pieces): what the lines say,
            // and what the session hands out cheaply for torrents with nothing going on.
            let snapshot = await session.snapshot(detailed: [])
            let list = snapshot.torrents
            let large = list.count > Self.everyLineUpTo
            for notice in await session.takeErrors() { say("notice: \(notice)") }
            for (hash, text) in await bans.take() {
                say("banned: \(list.position(of: hash).map { list[$0].name } ?? hash.hex): \(text)")
            }
            for chunk in 0..<list.chunkCount {
                // The same torrents as at the last look (not one snapshot changed): nothing new
                // in them to say.
                if large, let previous, list.sharesChunk(chunk, with: previous) { continue }
                for position in list.positions(ofChunk: chunk) {
                    let torrent = list[position]
                    let seen = large ? seenActivity.updateValue(torrent.activity, forKey: torrent.id) : nil
                    let firstLook = large && seen == nil && !lookedLarge
                    // A change of state gets its line, but a complete torrent's start (all 100,000
                    // of them after a restart, queued for their turn, then checked) is the
                    // summary's news.
                    let changed = seen.map { $0 != torrent.activity && !(torrent.isComplete && ($0 == .checking || $0 == .queued)) }
                        ?? false
                    if !large || Self.busy(torrent) || changed { say(Self.line(torrent)) }
                    // What a large session's torrents already were at the first look is not news.
                    if firstLook && torrent.isComplete { announced.insert(torrent.id) }
                    if firstLook, torrent.error != nil { failed.insert(torrent.id) }
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
            }
            if large { say(Self.summary(list)) }
            lookedLarge = lookedLarge || large
            previous = list
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

    /// Up to this many torrents, a line for each every interval; beyond, a line for those
    /// moving data, checking or changing state, and a summary line: 100,000 lines a second (and
    /// a full snapshot of each torrent to make them) helped nobody.
    static let everyLineUpTo = 1_000

    /// Doing something worth a line every interval.
    static func busy(_ torrent: TorrentSnapshot) -> Bool {
        guard torrent.downloadRate == 0, torrent.uploadRate == 0, torrent.peers.isEmpty else { return true }
        switch torrent.activity {
        case .downloading, .checking, .metadata: return !torrent.isComplete
        default: return false
        }
    }

    /// "100000 torrents: 3 downloading, 99990 seeding, 7 paused  down 1.2 MiB/s  up 0 B/s"
    static func summary(_ list: TorrentList) -> String {
        let states = list.activityCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.rawValue < $1.key.rawValue }
            .map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ")
        return "\(list.count) torrents: \(states)  down \(ByteCount.format(Int64(list.downloadRate)))/s  "
            + "up \(ByteCount.format(Int64(list.uploadRate)))/s"
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
