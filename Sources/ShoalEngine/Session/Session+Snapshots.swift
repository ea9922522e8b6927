import ShoalCore
import Synchronization

/// The torrents whose kept snapshot may have turned wrong since the session last looked: a
/// quiet torrent's change, a torrent ceasing to be quiet, a command clearing a resting
/// snapshot. A kept snapshot reports here once (the first change after it was kept), so the
/// session's next look asks those torrents and the ones that had nothing kept, not all 100,000.
final class KeptInvalidations: Sendable {
    /// More than this many at once: a full look is cheaper than finding each.
    static let limit = 4096
    private let state = Mutex<(hashes: Set<InfoHash>, overflow: Bool)>(([], false))

    func note(_ hash: InfoHash) {
        state.withLock { state in
            guard !state.overflow else { return }
            state.hashes.insert(hash)
            if state.hashes.count > Self.limit {
                state.hashes = []
                state.overflow = true
            }
        }
    }

    /// Everything noted since the last take; nil: too many (or unknown), look at everything.
    func take() -> Set<InfoHash>? {
        state.withLock { state in
            defer { state = ([], false) }
            return state.overflow ? nil : state.hashes
        }
    }
}

/// What a kept snapshot reports to when it turns wrong: the session's invalidations, under
/// the torrent's hash.
struct KeptWatcher: Sendable {
    let hash: InfoHash
    let invalidations: KeptInvalidations
    func invalidate() { invalidations.note(hash) }
}

/// A list-only look at every torrent, and the places whose torrent had no kept snapshot.
struct SnapshotScan {
    let detailed: Set<InfoHash>
    let made: ContinuousClock.Instant
    let shared: [SharedSnapshot]
    let unkept: [Int]

    /// How long the places found kept are trusted without a full look: kept quiet snapshots
    /// age (`RestingSlot.quietFor`), and a full look is what notices that.
    static let trustedFor: Duration = .seconds(10)
}

extension Session {
    /// The same torrents, each by reference: a resting (paused) torrent comes as the same
    /// object from call to call for as long as nothing about it changes, and a quiet one while
    /// it stays quiet. With `detailed` given (the interface's ask), a look while nothing kept can
    /// have changed asks only the torrents that had nothing kept: 100,000 kept snapshots looked
    /// at twice a second were most of an idle interface's cost.
    func sharedSnapshots(detailed: Set<InfoHash>? = nil) async -> [SharedSnapshot] {
        // Taken first: what turns wrong from here on is noted for the next look.
        let invalid = keptInvalidations.take()
        // A whole detailed look takes the reports too: the last list-only look is not to be
        // trusted after it.
        if detailed == nil { lastScan = nil }
        let now = ContinuousClock.now
        // Copied: the table may change while a runtime answers.
        let order = self.order
        let slots = orderSlots ?? watchedSlots(order)
        orderSlots = slots
        if let detailed, let invalid, let scan = lastScan, scan.detailed == detailed, now - scan.made < SnapshotScan.trustedFor,
            scan.shared.count == order.count, let positions = orderPositions
        {
            var torrents = scan.shared
            var unkept: [Int] = []
            for index in Set(scan.unkept).union(invalid.compactMap { positions[$0] }).sorted() {
                let listOnly = !detailed.contains(order[index])
                let kept = slots[index]?.kept(listOnly: listOnly, now: now)
                guard let shared = kept != nil ? kept : await snapshot(of: order[index], slot: slots[index], listOnly: listOnly, now: now)
                else {
                    lastScan = nil
                    return await sharedSnapshots(detailed: detailed)
                }
                torrents[index] = shared
                if slots[index]?.kept(listOnly: listOnly, now: now) !== shared { unkept.append(index) }
            }
            // Still the same order (a command may have run while a runtime answered).
            if order == self.order { lastScan = SnapshotScan(detailed: detailed, made: scan.made, shared: torrents, unkept: unkept) }
            return torrents
        }
        var torrents: [SharedSnapshot] = []
        torrents.reserveCapacity(order.count)
        var unkept: [Int] = []
        var whole = true
        // Nothing detailed (the interface's list): no torrent's hash is looked at for the kept
        // ones, which are nearly all of 100,000.
        let everyListOnly = detailed?.isEmpty == true
        for index in slots.indices {
            let listOnly = everyListOnly || (detailed.map { !$0.contains(order[index]) } ?? false)
            // A paused torrent's, or a quiet running torrent's (no peers, nothing under way) as
            // it was when last asked.
            if let kept = slots[index]?.kept(listOnly: listOnly, now: now) {
                torrents.append(kept)
                continue
            }
            guard let shared = await snapshot(of: order[index], slot: slots[index], listOnly: listOnly, now: now) else {
                whole = false
                continue
            }
            if slots[index]?.kept(listOnly: listOnly, now: now) !== shared { unkept.append(torrents.count) }
            torrents.append(shared)
        }
        if let detailed, whole, order == self.order {
            lastScan = SnapshotScan(detailed: detailed, made: now, shared: torrents, unkept: unkept)
        }
        return torrents
    }

    /// Each torrent's slot in `order`, watched by the session's invalidations, and each
    /// torrent's place (made again when the order or the slots change).
    private func watchedSlots(_ order: [InfoHash]) -> [RestingSlot?] {
        var positions: [InfoHash: Int] = [:]
        positions.reserveCapacity(order.count)
        let slots = order.enumerated().map { index, hash -> RestingSlot? in
            positions[hash] = index
            let slot = restingSlots[hash]
            slot?.watcher = KeptWatcher(hash: hash, invalidations: keptInvalidations)
            return slot
        }
        orderPositions = positions
        return slots
    }

    /// One torrent's snapshot, asked of its runtime (nil: it is gone).
    private func snapshot(of hash: InfoHash, slot: RestingSlot?, listOnly: Bool, now: ContinuousClock.Instant) async -> SharedSnapshot? {
        guard let entry = entries[hash] else { return nil }
        guard case .torrent(let runtime) = entry.phase else {
            return SharedSnapshot(await magnetSnapshot(hash, entry), resting: false)
        }
        // A paused torrent's snapshot is kept for every later caller: taken whole, so a
        // list-only first ask does not leave it without files and pieces for good.
        let changes = runtime.snapshotChanges.load(ordering: .acquiring)
        var snapshot = await runtime.snapshot(detailed: entry.paused || !listOnly)
        // The entry may have changed while the runtime answered.
        guard let entry = entries[hash] else { return nil }
        let current: Bool
        if case .torrent(let now) = entry.phase { current = now === runtime } else { current = false }
        if entry.paused {
            snapshot.activity = .paused
            snapshot.peers = []
            snapshot.downloadRate = 0
            snapshot.uploadRate = 0
        }
        if entry.queued || entry.startPending { snapshot.activity = .queued }
        snapshot.move = entry.move.map { MoveSnapshot(destination: $0.destination, fraction: $0.fraction) }
        entry.describe(&snapshot.details)
        // Nothing changes a paused torrent but a command, and every command (any change to
        // the entry) clears this; a move's progress changes on its own, so it is not kept.
        let resting = entry.paused && entry.move == nil && current
        // Unchanged since last asked (a quiet torrent asked again when its kept snapshot
        // aged): the same object, so the list's chunk holding it is not made again.
        let previous = listOnly ? slot?.lastHandedOut : nil
        let shared = previous.map { $0.snapshot == snapshot && $0.resting == resting } == true ? previous! : SharedSnapshot(snapshot, resting: resting)
        if listOnly { slot?.lastHandedOut = shared }
        if resting { entries[hash]?.resting = shared }
        // Kept if nothing was counted while the runtime answered (a change after it had
        // answered would be missing from what it said).
        if !resting, listOnly, current, !entry.paused, entry.move == nil, runtime.isQuiet.load(ordering: .acquiring),
            runtime.snapshotChanges.load(ordering: .acquiring) == changes {
            restingSlots[hash]?.keepQuiet(.init(shared: shared, runtime: runtime, changes: changes, taken: now))
            runtime.keptWatcher.withLock { $0 = KeptWatcher(hash: hash, invalidations: keptInvalidations) }
            // A change between the count above and the watcher set would have reported to no one.
            if runtime.snapshotChanges.load(ordering: .acquiring) != changes || !runtime.isQuiet.load(ordering: .acquiring) {
                keptInvalidations.note(hash)
            }
        }
        return shared
    }
}
