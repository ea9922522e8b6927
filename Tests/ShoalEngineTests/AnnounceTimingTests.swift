import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Synchronization
import Testing

/// The announcer in a running session, past its first waits: the first release stopped sleeping
/// once its first wait ended and announced thousands of times a second.
@Suite("Announce timing in a session", .serialized)
struct AnnounceTimingTests {
    /// A seeder against a tracker with a 2 s interval: the fourth announce comes no sooner than
    /// three intervals after the first, and no burst comes with it.
    @Test func announcesFollowTheIntervalPastTheFirstWaits() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker(interval: 2)
        let torrent = try harness.makeTorrent(name: "a.bin", files: nil, singleSize: 40_000, pieceLength: 16 << 10,
                                              in: harness.root.appendingPathComponent("seed"))
        let seeder = try await harness.startSession("seed")
        let start = ContinuousClock.now
        try await seeder.add(torrent)
        let tracker = harness.tracker!
        // Bounded for a loaded machine (30 s was once too short in CI); the interval checks follow.
        let reached = await harness.waitUntil(timeout: .seconds(60)) { tracker.core.stats.announces >= 4 }
        let elapsed = ContinuousClock.now - start
        let count = tracker.core.stats.announces
        #expect(reached)
        #expect(elapsed >= .milliseconds(5_500), "four announces took \(elapsed): the interval was not kept")
        #expect(count <= 5, "\(count) announces in \(elapsed)")
        await harness.stopAll()
    }

    /// A tracker that answers garbage is retried after 1, 2, 4 s (backoff from a 1 s start here;
    /// 15 s by default), not at once.
    @Test func aFailingTrackerIsRetriedWithBackoff() async throws {
        let requests = Atomic<Int>(0)
        let broken = try FakeHTTPServer { request in
            // Scrapes go to the same server; only announces count.
            if request.hasPrefix("GET /announce") { requests.add(1, ordering: .relaxed) }
            return Array("<html>not a tracker</html>".utf8)
        }
        defer { broken.stop() }
        let harness = try SwarmHarness()
        let torrent = try harness.makeTorrent(name: "b.bin", files: nil, singleSize: 40_000, pieceLength: 16 << 10,
                                              in: harness.root.appendingPathComponent("seed"), trackers: [[broken.announceURL]])
        let seeder = try await harness.startSession("seed") { $0.announceFirstBackoff = .seconds(1) }
        let start = ContinuousClock.now
        try await seeder.add(torrent)
        let reached = await harness.waitUntil(timeout: .seconds(30)) { requests.load(ordering: .relaxed) >= 4 }
        let elapsed = ContinuousClock.now - start
        #expect(reached)
        #expect(elapsed >= .milliseconds(6_500), "1 + 2 + 4 s of backoff took only \(elapsed)")
        #expect(requests.load(ordering: .relaxed) <= 4)
        // The fourth failure reaches the torrent a moment after the server counted its request.
        #expect(await harness.waitUntil(timeout: .seconds(5)) {
            await seeder.snapshot().torrents.first?.trackers.first?.nextAnnounce.map { $0 > .now } == true
        }, "the next retry is in the future")
        let state = try #require(await seeder.snapshot().torrents.first?.trackers.first)
        #expect(state.error != nil)
        await harness.stopAll()
    }
}
