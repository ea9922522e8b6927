import Foundation
import ShoalCore

/// Work a torrent does now and then, started by `run()` as a child task when it falls due.
enum RuntimeJob: Sendable {
    case dial(PeerAddress)
    case tick
    case announce
    case dhtAnnounce
    case scrape
    case verify
    case end
}

/// Work that runs a round at a time; asked for during a round, it runs one more after it
/// (asks that come together are one round).
struct CoalescedWork {
    private(set) var running = false
    private var again = false

    /// True when a round should start now; otherwise the one under way goes again.
    mutating func ask() -> Bool {
        if running { again = true }
        defer { running = true }
        return !running
    }

    /// After a round: true to go again.
    mutating func roundEnded() -> Bool {
        defer { again = false }
        running = again
        return again
    }
}

/// Which on-demand work is under way.
struct RunningJobs {
    var announce = CoalescedWork()
    var dhtAnnounce = CoalescedWork()
}

/// A torrent's life as jobs. An idle torrent holds no waiting task but its `run()`: its tick
/// is an event-loop timer, and announces, DHT announces and scrapes are child tasks that end
/// with their work, started when the tick (or a command, a completion, an error) says they
/// are due. Each task left waiting cost about 2.5 KiB, and the tick's sleep 7: with 100,000
/// torrents that was most of their memory.
extension TorrentRuntime {
    /// Runs until `endRun()` (or until cancelled): checks the data, then serves. The check is
    /// a child task too, so ending the run during it stops the hashing.
    public func run() async {
        activity = .checking
        await withDiscardingTaskGroup { group in
            group.addTask { await self.checkThenStart() }
            let context = self.context
            // Everything else runs when it falls due, as a child task that ends with its work.
            loop: for await job in jobs {
                switch job {
                case .dial(let address): group.addTask { await PeerConnection.dial(address, torrent: self, context: context) }
                case .tick: group.addTask { await self.tickFired() }
                case .announce: group.addTask { await self.announceRounds() }
                case .dhtAnnounce: group.addTask { await self.dhtAnnounceRounds() }
                case .scrape: group.addTask { await self.scrapeRound() }
                case .verify: group.addTask { await self.verifyLoop() }
                case .end: break loop
                }
            }
            tickTimer.stop()
            group.cancelAll()
        }
        if verifyLoopRunning { verifyLoopEnded() }
        writer.close()
        closeAllPeers(CloseReason(.stopped, "removed or shut down"))
        storage.sync()
    }

    /// Ends `run()`: its work is cancelled and it returns (the session's pause and removal; a
    /// waiting task per torrent to cancel it was another 3.5 KiB each).
    nonisolated func endRun() { jobSink.yield(.end) }

    /// Hashes what resume data does not vouch for, then starts the torrent's work.
    private func checkThenStart() async {
        let info = metainfo.info
        // Resume data vouches for pieces whose files are unchanged, present or missing; only the
        // rest are hashed.
        let vouched = loadVouched()
        let counter = checkedPieces
        let have = await PieceVerifier.verifyAll(storage: storage, info: info, pool: pool, trusted: vouched?.have,
                                                 known: vouched?.known) { _ in counter.increment() }
        savedHave = vouched?.have
        if Task.isCancelled { return }
        picker = PiecePicker(geometry: info.geometry, have: have, filePriorities: filePriorities)
        picker?.sequential = sequential
        announceSchedule = AnnounceSchedule(policy: config.announcePolicy, alreadyComplete: picker!.isDone)
        if picker!.isDone {
            activity = seedWhenDone ? .seeding : .finished
            if config.superSeeding { superSeeder = SuperSeeder(pieceCount: info.pieceCount) }
            if completedAt == nil { completedAt = Date() }
        } else {
            activity = .downloading
            do {
                try storage.preflight()
                try storage.createEmptyFiles()
            } catch {
                fail(error.description)
            }
        }
        writer = PieceWriter(storage: storage, info: metainfo.info, pool: pool)
        wakeAnnouncer()
        wakeDHTAnnounce()
        if !trackerStates.isEmpty { scrapeSchedule.start(now: .now) }
        tickTimer.arm(after: .zero)
    }

    func tickFired() {
        let now = ContinuousClock.now
        tick(now: now)
        tickTimer.arm(after: nextTick(now: now))
        noteChange()
    }

    /// The announcer runs now, or once more after the round under way (completion or a
    /// re-announce came meanwhile); wakes that come together are one round.
    func wakeAnnouncer() {
        // While checking: the check's end wakes it (with the schedule and `left` it finds).
        guard picker != nil else { return }
        if running.announce.ask() { jobSink.yield(.announce) }
    }

    func announceRounds() async {
        repeat { await announceRound() } while running.announce.roundEnded() && !Task.isCancelled
        noteChange()
    }

    func wakeDHTAnnounce() {
        guard dht != nil, !metainfo.info.isPrivate, picker != nil else { return }
        if running.dhtAnnounce.ask() { jobSink.yield(.dhtAnnounce) }
    }

    func dhtAnnounceRounds() async {
        repeat { await dhtAnnounce() } while running.dhtAnnounce.roundEnded() && !Task.isCancelled
        noteChange()
    }

    /// Called every tick.
    func wakeScrapeIfDue(now: ContinuousClock.Instant) {
        if scrapeSchedule.takeIfDue(now: now) { jobSink.yield(.scrape) }
    }
}
