import Foundation
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Testing

/// Many torrents added at once do not storm their tracker: the session's announces and scrapes
/// go at `trackerRequestsPerSecond`, counted by the tracker itself, and their scrapes share requests.
@Suite("Tracker requests paced across the session", .serialized)
struct TrackerPacingTests {
    @Test func sixtyTorrentsAddedAtOnceAnnounceAtTheRate() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker(interval: 3600)
        let tracker = harness.tracker!
        let source = harness.root.appendingPathComponent("source")
        var torrents: [Metainfo] = []
        for index in 0..<60 {
            torrents.append(try harness.makeTorrent(name: "t\(index).bin", files: nil, singleSize: 2_000, pieceLength: 16 << 10,
                                                    in: source, seed: UInt64(100 + index)))
        }
        let rate = 10
        let session = try await harness.startSession("paced") { $0.trackerRequestsPerSecond = rate }
        for torrent in torrents { try await session.add(torrent) }
        let all = await harness.waitUntil(timeout: .seconds(60)) { tracker.core.stats.announces >= 60 }
        #expect(all, "announced: \(tracker.core.stats.announces)")
        // What the session let go: a burst of `rate`, then `rate` a second, so no second saw
        // more than twice the rate. (The tracker's own count is the benchmark's: on a loaded
        // machine requests let go apart can arrive together.)
        let busiest = session.trackerGate.busiestSecond
        #expect(busiest <= 2 * rate && busiest >= rate, "busiest second \(busiest)")
        // Their scrapes went together, many torrents to a request (BEP 48's several info_hash).
        let scraped = await harness.waitUntil(timeout: .seconds(60)) {
            await session.snapshot().torrents.allSatisfy { $0.trackers.first?.lastScrape != nil }
        }
        #expect(scraped)
        let scrapes = tracker.core.stats.scrapes
        #expect(scrapes <= 20, "60 torrents scraped in \(scrapes) requests")
        await harness.stopAll()
    }
}
