import Foundation
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Synchronization
import Testing

/// An idle torrent's `run()` ends ("dormant") and the next job starts it again: the queue's
/// rules in memory, then a seeder that goes dormant and must still tick, dial, serve, pause and
/// be removed.
@Suite("Dormant torrent runs", .serialized)
struct DormantRunTests {
    @Test func aQueuedJobIsTakenWithoutWaiting() async {
        let queue = RuntimeJobQueue()
        queue.submit(.tick)
        queue.submit(.scrape)
        #expect(await queue.next() == .tick)
        #expect(await queue.next() == .scrape)
    }

    @Test func aWaitingRunIsHandedTheJob() async {
        let queue = RuntimeJobQueue()
        let waiting = Task { await queue.next() }
        #expect(await SwarmHarness.poll(timeout: .seconds(10)) { queue.isWaiting })
        queue.submit(.announce)
        #expect(await waiting.value == .announce)
    }

    @Test func withoutAWakeARunNeverGoesDormant() {
        let queue = RuntimeJobQueue()
        #expect(!queue.sleepIfIdle())
        #expect(!queue.isDormant)
    }

    @Test func aJobWaitingKeepsTheRunAwake() {
        let queue = RuntimeJobQueue()
        queue.setWake {}
        queue.submit(.verify)
        #expect(!queue.sleepIfIdle(), "a job is waiting to be taken")
    }

    @Test func aDormantQueueWakesOnceAndKeepsTheJobs() async {
        let queue = RuntimeJobQueue()
        let wakes = Atomic<Int>(0)
        queue.setWake { wakes.add(1, ordering: .relaxed) }
        #expect(queue.sleepIfIdle())
        #expect(queue.isDormant)
        queue.submit(.tick)
        queue.submit(.dhtAnnounce)
        #expect(wakes.load(ordering: .relaxed) == 1, "one new run for however many jobs")
        #expect(!queue.isDormant)
        #expect(await queue.next() == .tick)
        #expect(await queue.next() == .dhtAnnounce)
    }

    @Test func aCancelledWaitEndsTheRun() async {
        let queue = RuntimeJobQueue()
        let waiting = Task { await queue.next() }
        waiting.cancel()
        #expect(await waiting.value == .end)
    }

    @Test func aDormantSeederTicksDialsServesAndPauses() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "dormant.bin", files: nil, singleSize: 400_000, pieceLength: 32 << 10,
                                              in: seedDir, seed: 43, trackers: [])
        let seeder = try await harness.startSession("seed")
        let hash = try await seeder.add(torrent)
        let runtime = try #require(await seeder.runtime(for: hash))
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        #expect(await harness.waitUntil { runtime.jobQueue.isDormant }, "a seed with nothing to do holds no run")

        // A tick comes to a dormant torrent: a run takes it and ends again.
        let ticksBefore = await runtime.ticks
        runtime.tickTimer.ring()
        #expect(await harness.waitUntil { await runtime.ticks > ticksBefore })
        #expect(await harness.waitUntil { runtime.jobQueue.isDormant })

        // A peer to dial: the dial is a job, so the dormant seeder wakes to make it.
        let leecher = try await harness.startSession("leech")
        _ = try await leecher.add(torrent)
        await seeder.addPeers(hash, [PeerAddress(host: "127.0.0.1", port: leecher.listenPort)])
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true },
                "the seeder dialled the leecher and served it")
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("dormant.bin"),
                                          harness.root.appendingPathComponent("leech/dormant.bin")))
        await leecher.shutdown()

        // Dormant again, then paused: the run is woken to end and the torrent rests.
        #expect(await harness.waitUntil(timeout: .seconds(60)) { runtime.jobQueue.isDormant })
        try await seeder.pause(hash)
        #expect(await seeder.snapshot().torrents.first?.activity == .paused)
        try await seeder.resume(hash)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        try await seeder.remove(hash, deleteData: false)
        #expect(await seeder.snapshot().torrents.isEmpty)
        await harness.stopAll()
    }
}
