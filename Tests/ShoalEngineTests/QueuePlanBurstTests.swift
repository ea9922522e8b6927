import Foundation
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Testing

/// In a session whose queue plan is costly (100,000 torrents: tens of ms), a burst of adds is
/// served by one plan after a short wait, not a plan per add; a small session plans at once.
@Suite("Queue plans per burst", .serialized)
struct QueuePlanBurstTests {
    @Test func aBurstOfAddsIsOnePlanWhenPlansAreCostly() async throws {
        let harness = try SwarmHarness()
        let leecher = try await harness.startSession("leech") {
            $0.maxActiveDownloads = 2
            $0.queueStalledAfter = .seconds(3_600)
        }
        // Nobody has their data: each downloads for ever, holding its slot.
        var torrents: [Metainfo] = []
        for n in 0..<6 {
            torrents.append(try harness.makeTorrent(name: "q\(n).bin", files: nil, singleSize: 64 << 10, pieceLength: 16 << 10,
                                                    in: harness.root.appendingPathComponent("elsewhere"), seed: UInt64(40 + n),
                                                    trackers: []))
        }
        @Sendable func activity(_ hash: InfoHash) async -> TorrentActivity? { await leecher.snapshot().torrents.first { $0.id == hash }?.activity }
        let first = try await leecher.add(torrents[0])
        let running: Set<TorrentActivity?> = [.checking, .downloading]
        #expect(running.contains(await activity(first)), "a small session plans at once")

        await leecher.pretendLarge(planCost: .milliseconds(100))
        var added: [InfoHash] = []
        for torrent in torrents.dropFirst() { added.append(try await leecher.add(torrent)) }
        let burst = added
        let states = await leecher.snapshot().torrents
        #expect(burst.allSatisfy { hash in states.first { $0.id == hash }?.activity == .queued },
                "the burst waits for the plan, though a slot is free")
        #expect(await leecher.queuePlansPutOff == 1, "five adds, one plan")
        // Bounded generously: beside the heaviest suites the two cooperative threads are slow to come round.
        #expect(await harness.waitUntil(timeout: .seconds(30)) { running.contains(await activity(burst[0])) })
        for hash in burst.dropFirst() { #expect(await activity(hash) == .queued, "the slots are taken") }
        await harness.stopAll()
    }
}

extension Session {
    /// As if the session were large and its last plan had taken `planCost`.
    func pretendLarge(planCost: Duration) {
        planLaterAbove = 0
        lastPlanCost = planCost
    }
}
