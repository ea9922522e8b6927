import Foundation
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Testing

/// A running torrent with nothing going on (no peers, no dials, not checking) is not asked for
/// its snapshot again while it counts no change: the session hands out what it kept. Anything
/// it shows that moves — a command, a peer arriving — is seen at the next snapshot.
@Suite("Quiet torrents' snapshots kept", .serialized)
struct QuietSnapshotTests {
    @Test func keptWhileQuietAndDroppedOnEveryChange() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "quiet.bin", files: nil, singleSize: 300_000, pieceLength: 32 << 10, in: seedDir,
                                              seed: 41, trackers: [])
        let seeder = try await harness.startSession("seed")
        let hash = try await seeder.add(torrent)
        let runtime = try #require(await seeder.runtime(for: hash))
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        #expect(await harness.waitUntil { runtime.isQuiet.load(ordering: .relaxed) == true }, "no peers, nothing under way")

        // Two list-only snapshots in a row give the same object (bounded: a tick may count a
        // change between any two).
        @Sendable func listed() async -> SharedSnapshot? { await seeder.sharedSnapshots(detailed: []).first }
        #expect(await harness.waitUntil(timeout: .seconds(30)) {
            let first = await listed()
            let second = await listed()
            return first != nil && first === second
        }, "kept while quiet")
        let kept = try #require(await listed())
        // Details asked for: taken from the runtime, never the kept list-only one.
        let detailed = try #require(await seeder.sharedSnapshots(detailed: [hash]).first)
        #expect(detailed !== kept && !detailed.snapshot.files.isEmpty)
        #expect(kept.snapshot.files.isEmpty)

        // A command changes what it shows: seen at once.
        try await seeder.setLabels(hash, ["kept"])
        let labelled = try #require(await listed())
        #expect(labelled !== kept && labelled.snapshot.details.labels == ["kept"])

        // Kept again, then a peer arrives: the next snapshot shows it (the kept one had none).
        #expect(await harness.waitUntil(timeout: .seconds(30)) {
            let first = await listed()
            let second = await listed()
            return first != nil && first === second
        })
        #expect(try #require(await listed()).snapshot.peers.isEmpty)
        let leecher = try await harness.startSession("leech") { $0.downloadLimit = 64 << 10 }
        let leeching = try await leecher.add(torrent)
        await leecher.addPeers(leeching, [PeerAddress(host: "127.0.0.1", port: seeder.listenPort)])
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await listed()?.snapshot.peers.isEmpty == false },
                "the arriving peer is listed, not hidden behind the kept snapshot")
        let quietNow = runtime.isQuiet.load(ordering: .relaxed)
        #expect(!quietNow)

        // However quiet, a kept snapshot is not handed out past its time.
        let slot = try #require(await seeder.restingSlots[hash])
        let old = RestingSlot.Quiet(shared: kept, runtime: runtime, changes: runtime.snapshotChanges.load(ordering: .relaxed),
                                    taken: .now - RestingSlot.quietFor - .seconds(1))
        slot.keepQuiet(old)
        #expect(slot.kept(listOnly: true, now: .now) == nil)
        await harness.stopAll()
    }

    /// Once every torrent's snapshot is kept, a list-only look asks none of them; a torrent
    /// whose kept snapshot turns wrong (a command, a dial) is reported and asked again alone,
    /// and the look after shows the change.
    @Test func aLookAsksOnlyTheTorrentsWhoseKeptSnapshotTurnedWrong() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seeds")
        let seeder = try await harness.startSession("seed")
        var hashes: [InfoHash] = []
        for n in 0..<6 {
            let torrent = try harness.makeTorrent(name: "q\(n).bin", files: nil, singleSize: 40_000, pieceLength: 16 << 10, in: seedDir,
                                                  seed: UInt64(60 + n), trackers: [])
            hashes.append(try await seeder.add(torrent))
        }
        @Sendable func listed() async -> [SharedSnapshot] { await seeder.sharedSnapshots(detailed: []) }
        // Quiet and kept, all of them: a look then has nothing left to ask.
        #expect(await harness.waitUntil(timeout: .seconds(30)) {
            let first = await listed()
            let second = await listed()
            let unkept = await seeder.lastScan?.unkept
            return first.count == 6 && zip(first, second).allSatisfy { $0 === $1 } && unkept == []
        }, "every snapshot kept and the last look asked nobody")
        let before = await listed()
        #expect(await seeder.lastScan != nil)

        // A command on one: the next look shows it; the others are the same objects.
        try await seeder.pause(hashes[2])
        let paused = await listed()
        #expect(paused[2].snapshot.activity == .paused)
        #expect(paused.indices.filter { $0 != 2 }.allSatisfy { paused[$0] === before[$0] })

        // A whole detailed look in between (headless output, the RPC) takes the report; the
        // next list-only look still shows the change.
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await listed()[3] === listed()[3] })
        try await seeder.pause(hashes[3])
        _ = await seeder.sharedSnapshots(detailed: nil)
        #expect(await listed()[3].snapshot.activity == .paused)

        // The runtime itself reports: a dial makes a quiet torrent busy, its kept snapshot goes.
        let runtime = try #require(await seeder.runtime(for: hashes[4]))
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await listed()[4] === listed()[4] && runtime.keptWatcher.withLock { $0 != nil } })
        runtime.reportKeptSnapshotWrong()
        #expect(seeder.keptInvalidations.take() == [hashes[4]], "reported once, under its hash")
        runtime.reportKeptSnapshotWrong()
        #expect(seeder.keptInvalidations.take() == [], "and only once until kept again")
        await harness.stopAll()
    }

    @Test func tooManyInvalidationsMeanALookAtEverything() {
        let invalidations = KeptInvalidations()
        let hashes = (0..<3).map { InfoHash(bytes: [UInt8](repeating: UInt8($0), count: 20))! }
        for hash in hashes + hashes { invalidations.note(hash) }
        #expect(invalidations.take() == Set(hashes))
        #expect(invalidations.take() == [], "taken: gone")
        for n in 0...KeptInvalidations.limit {
            invalidations.note(InfoHash(bytes: (0..<20).map { UInt8(truncatingIfNeeded: n >> ($0 % 2 * 8)) })!)
        }
        #expect(invalidations.take() == nil, "more than the limit: nil, look at everything")
        #expect(invalidations.take() == [])
    }
}
