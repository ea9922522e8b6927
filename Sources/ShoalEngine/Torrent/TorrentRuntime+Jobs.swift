import Foundation
import ShoalCore

/// Work a torrent does now and then, started by `run()` as a child task when it falls due.
enum RuntimeJob: Sendable, Equatable {
    case dial(PeerAddress)
    case tick
    case announce
    case dhtAnnounce
    case scrape
    case verify
    /// A request to the torrent's `n`th web seed (see `TorrentRuntime+WebSeeds.swift`).
    case webSeed(Int)
    /// The last job under way ended: the run may go dormant (see `RuntimeJobQueue`).
    case sleep
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

/// A torrent's life as jobs. An idle torrent holds no waiting task: its tick is an
/// event-loop timer; announces, DHT announces and scrapes are child tasks that end with their
/// work, started when the tick (or a command, a completion, an error) says they are due; and
/// once nothing is under way its `run()` itself ends, to be started again by the next job (see
/// `RuntimeJobQueue`). Each task left waiting cost about 2.5 KiB, the tick's sleep 7, and the
/// run with its group 5: with 100,000 torrents that was most of their memory.
extension TorrentRuntime {
    /// Runs until `endRun()` (or until cancelled): checks the data, then serves. The check is
    /// a child task too, so ending the run during it stops the hashing. With the session's
    /// wake set, returns early when idle and is started again when work comes.
    public func run() async {
        var ended = false
        await withDiscardingTaskGroup { group in
            if !hasRun {
                hasRun = true
                activity = .checking
                startJob(in: &group) { await $0.checkThenStart() }
            }
            // Made at the first dial, not per run: an idle torrent's run is a tick long, and
            // the context (a logger with metadata among it) was a tenth of 100,000 seeds' start.
            var context: PeerContext?
            // Everything else runs when it falls due, as a child task that ends with its work.
            loop: while true {
                switch await jobQueue.next() {
                case .dial(let address):
                    let dialing = context ?? self.context
                    context = dialing
                    startJob(in: &group) { await PeerConnection.dial(address, torrent: $0, context: dialing) }
                case .tick: startJob(in: &group) { $0.tickFired() }
                case .announce: startJob(in: &group) { await $0.announceRounds() }
                case .dhtAnnounce: startJob(in: &group) { await $0.dhtAnnounceRounds() }
                case .scrape: startJob(in: &group) { await $0.scrapeRound() }
                case .verify: startJob(in: &group) { await $0.verifyLoop() }
                case .webSeed(let index): startJob(in: &group) { await $0.webSeedConnection(index) }
                case .sleep: if jobsUnderWay == 0 && jobQueue.sleepIfIdle() { break loop }
                case .end:
                    ended = true
                    break loop
                }
            }
            guard ended else { return }
            tickTimer.stop()
            group.cancelAll()
        }
        // Dormant: the next job starts another run.
        guard ended else { return }
        if verifyLoopRunning { verifyLoopEnded() }
        writer.close()
        closeAllPeers(CloseReason(.stopped, "removed or shut down"))
        storage.sync()
    }

    /// Starts a job as a child of the run, counted until it ends; the last to end lets the run
    /// go dormant.
    private func startJob(in group: inout DiscardingTaskGroup, _ work: @escaping @Sendable (isolated TorrentRuntime) async -> Void) {
        jobsUnderWay += 1
        group.addTask {
            await self.perform(work)
        }
    }

    private func perform(_ work: @Sendable (isolated TorrentRuntime) async -> Void) async {
        await work(self)
        jobsUnderWay -= 1
        if jobsUnderWay == 0 { jobQueue.submit(.sleep) }
    }

    /// Ends `run()`: its work is cancelled and it returns (the session's pause and removal; a
    /// waiting task per torrent to cancel it was another 3.5 KiB each). A dormant torrent is
    /// woken to end.
    nonisolated func endRun() {
        tickTimer.stop()
        jobQueue.submit(.end)
    }

    /// Lets `run()` end while idle: `wake` starts it again when a job comes (the session's).
    nonisolated func wakesWith(_ wake: @escaping @Sendable () -> Void) { jobQueue.setWake(wake) }

    /// Hashes what resume data does not vouch for, then starts the torrent's work.
    func checkThenStart() async {
        let info = metainfo.info
        // Resume data vouches for pieces whose files are unchanged, present or missing; only the
        // rest are hashed.
        let vouched = takeVouchedForRun() ?? loadVouched()
        let counter = checkedPieces
        let have = await PieceVerifier.verifyAll(storage: storage, info: info, pool: pool, trusted: vouched?.have,
                                                 known: vouched?.known) { _ in counter.increment() }
        savedHave = vouched?.have
        if Task.isCancelled { return }
        picker = PiecePicker(geometry: info.geometry, have: have, filePriorities: filePriorities)
        webSeeding?.joined = []
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
        if !trackers.states.isEmpty { scrapeSchedule.start(now: .now) }
        tickTimer.arm(after: .zero)
    }

    func tickFired() {
        ticks &+= 1
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
        if running.announce.ask() { jobQueue.submit(.announce) }
    }

    func announceRounds() async {
        repeat { await announceRound() } while running.announce.roundEnded() && !Task.isCancelled
        noteChange()
    }

    func wakeDHTAnnounce() {
        guard dht != nil, !metainfo.info.isPrivate, picker != nil else { return }
        if running.dhtAnnounce.ask() { jobQueue.submit(.dhtAnnounce) }
    }

    func dhtAnnounceRounds() async {
        repeat { await dhtAnnounce() } while running.dhtAnnounce.roundEnded() && !Task.isCancelled
        noteChange()
    }

    /// Called every tick.
    func wakeScrapeIfDue(now: ContinuousClock.Instant) {
        if scrapeSchedule.takeIfDue(now: now) { jobQueue.submit(.scrape) }
    }
}
