import ShoalCore

/// Queueing (`maxActiveDownloads`, `maxActiveSeeds`): torrents the user wants running beyond
/// the slots wait as "queued", in the session's order, which `moveInQueue` changes.
extension Session {
    var queueing: Bool { config.maxActiveDownloads > 0 || config.maxActiveSeeds > 0 }

    /// Starts the torrent, or with queueing on, queues it and starts it if a slot is free.
    /// `planNow` false: the caller queues many (a restore, a watch folder's batch) and plans
    /// once after the last; a plan looks at every torrent, and one per torrent of 100,000
    /// restored never finished.
    func startOrQueue(_ hash: InfoHash, planNow: Bool = true) {
        guard queueing else { return start(hash) }
        entries[hash]?.queued = true
        entries[hash]?.resting = nil
        if planNow { planQueueSoon() }
    }

    /// Plans now in a session of up to `planLaterAbove` torrents; in a larger one (a plan of
    /// 100,000 torrents is tens of ms on the session's actor) one plan a moment later, four
    /// times what the last took, serves every add meanwhile: fifty adds through the RPC were
    /// fifty plans. By size, not by the time a plan took: a small session on a loaded machine
    /// still plans at once.
    func planQueueSoon() {
        guard entries.count > planLaterAbove else { return startQueuedIfRoom() }
        guard !queuePlanPending else { return }
        queuePlanPending = true
        queuePlansPutOff += 1
        spawnContinuation.yield(.queuePlan(after: min(max(lastPlanCost * 4, .milliseconds(1)), .milliseconds(500))))
    }

    /// The plan `planQueueSoon` put off.
    func plannedQueueRound() {
        queuePlanPending = false
        guard !hasShutDown else { return }
        startQueuedIfRoom()
    }

    /// A torrent that wants to run, as the plan sees it.
    private struct Planned {
        let hash: InfoHash
        let queued: Bool
        let running: Bool
        /// The plan lets it run.
        var wanted = false
    }

    /// The plan for the torrents that want to run (in queue order), from what the queue last
    /// learned of them. One pass over the session: it runs for every torrent added.
    private func plan() -> [Planned] {
        let now = ContinuousClock.now
        var planned: [Planned] = []
        var candidates: [QueuePlanner.Candidate] = []
        for hash in order {
            guard let entry = entries[hash], !entry.paused || entry.queued else { continue }
            candidates.append(QueuePlanner.Candidate(id: planned.count, complete: entry.queueComplete, running: !entry.paused,
                                                     stalled: isStalled(entry, now: now)))
            planned.append(Planned(hash: hash, queued: entry.queued, running: !entry.paused))
        }
        for id in QueuePlanner.running(candidates, downloads: config.maxActiveDownloads, seeds: config.maxActiveSeeds) {
            planned[id].wanted = true
        }
        return planned
    }

    private func isStalled(_ entry: Entry, now: ContinuousClock.Instant) -> Bool {
        guard !entry.paused, !entry.queueComplete, let last = entry.lastReceived else { return false }
        return now - last.at >= config.queueStalledAfter
    }

    /// Queued torrents the plan lets run are started (nothing is stopped here: that takes an await).
    func startQueuedIfRoom() {
        guard queueing else { return }
        let began = ContinuousClock.now
        defer { lastPlanCost = .now - began }
        for torrent in plan() where torrent.queued && torrent.wanted {
            let hash = torrent.hash
            entries[hash]?.queued = false
            logger.info("started: a queue slot is free", metadata: ["infohash": "\(hash.hex.prefix(12))"])
            start(hash)
        }
    }

    /// Every few seconds: learns which torrents are complete and which received something, queues
    /// running torrents beyond the slots (the last in order first) and starts queued ones into
    /// free slots.
    func enforceQueue(now: ContinuousClock.Instant) async {
        guard queueing else { return }
        for hash in order {
            guard let entry = entries[hash], case .torrent(let runtime) = entry.phase else { continue }
            // A complete torrent that counted no change since the last look (and was looked at
            // in the last minute) is still complete and received nothing: not asked, so 100,000
            // idle seeds are not 100,000 actor hops every 5 s.
            let changes = runtime.snapshotChanges.load(ordering: .acquiring)
            guard Self.queueAsks(complete: entry.queueComplete, lastLook: entry.queueLook, changes: changes, now: now) else { continue }
            let facts = await runtime.queueFacts
            entries[hash]?.queueLook = (changes, now)
            entries[hash]?.queueComplete = facts.complete
            if entry.paused {
                entries[hash]?.lastReceived = nil
            } else if entry.lastReceived?.bytes != facts.downloaded {
                entries[hash]?.lastReceived = (facts.downloaded, now)
            }
        }
        for torrent in plan().reversed() where torrent.running && !torrent.wanted {
            let hash = torrent.hash
            do {
                try await serialized(hash) {
                    guard entries[hash]?.paused == false else { return }
                    try await pauseNow(hash)
                    entries[hash]?.queued = true
                    entries[hash]?.resting = nil
                    logger.info("queued: the slots are taken", metadata: ["infohash": "\(hash.hex.prefix(12))"])
                }
            } catch {
                report("cannot queue \(hash.hex.prefix(12)): \(error)")
            }
        }
        startQueuedIfRoom()
    }

    /// Whether a queue round asks a torrent's runtime for its facts: always, unless it was
    /// complete when last asked, has counted no change since, and was asked within `queueLookKept`.
    static func queueAsks(complete: Bool, lastLook: (changes: Int, at: ContinuousClock.Instant)?, changes: Int,
                          now: ContinuousClock.Instant) -> Bool {
        guard complete, let seen = lastLook else { return true }
        return seen.changes != changes || now - seen.at >= queueLookKept
    }

    static let queueLookKept: Duration = .seconds(60)

    public enum QueueMove: Sendable { case up, down, top, bottom }

    /// Moves the torrent in the queue (the session's order, which the list shows unsorted).
    public func moveInQueue(_ hash: InfoHash, _ move: QueueMove) async throws {
        guard let index = order.firstIndex(of: hash) else { throw SessionError.unknownTorrent }
        order.remove(at: index)
        let target = switch move {
        case .up: max(0, index - 1)
        case .down: min(order.count, index + 1)
        case .top: 0
        case .bottom: order.count
        }
        order.insert(hash, at: target)
        await enforceQueue(now: .now)
        await saveSession()
    }
}
