import Foundation
import ShoalCore
import ShoalTestSupport
import ShoalEngine
import Testing

@Suite("In-process swarms on 127.0.0.1", .serialized)
struct SwarmTests {
    /// 1 seeder + 3 leechers, a multi-file torrent with odd sizes and a 1-byte file, and a single-file
    /// torrent with a short last piece, at once. Every leecher ends with byte-identical data.
    @Test func oneSeederThreeLeechers() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let multi = try harness.makeTorrent(
            name: "album", files: [("01 intro.flac", 100_003), ("02 one byte", 1), ("art/cover.jpg", 70_001), ("notes.txt", 16_384)],
            pieceLength: 32 << 10, in: seedDir, seed: 10)
        let single = try harness.makeTorrent(name: "image.iso", files: nil, singleSize: 5 * 65_536 + 12_345,
                                             pieceLength: 64 << 10, in: seedDir, seed: 20)
        let seeder = try await harness.startSession("seed")
        try await seeder.add(multi)
        try await seeder.add(single)
        var leechers: [Session] = []
        for number in 1...3 {
            let leecher = try await harness.startSession("leech\(number)")
            try await leecher.add(multi)
            try await leecher.add(single)
            leechers.append(leecher)
        }
        let all = leechers
        let allDone = await harness.waitUntil(timeout: .seconds(120)) {
            for leecher in all {
                let snapshot = await leecher.snapshot()
                if snapshot.torrents.count != 2 || !snapshot.torrents.allSatisfy({ $0.isComplete }) { return false }
            }
            return true
        }
        #expect(allDone)
        for number in 1...3 {
            for name in ["album/01 intro.flac", "album/02 one byte", "album/art/cover.jpg", "album/notes.txt", "image.iso"] {
                let original = seedDir.appendingPathComponent(name)
                let copy = harness.root.appendingPathComponent("leech\(number)/\(name)")
                #expect(FileManager.default.contentsEqual(atPath: original.path, andPath: copy.path), "leech\(number)/\(name)")
            }
        }
        let seedSnapshot = await seeder.snapshot()
        #expect(seedSnapshot.torrents.allSatisfy { $0.activity == .seeding })
        #expect(seedSnapshot.torrents.reduce(0) { $0 + $1.uploaded } > 0)
        await harness.stopAll()
    }

    /// Existing complete data is verified on add and seeded; partial data is kept and completed.
    @Test func resumesFromPartialData() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "data.bin", files: nil, singleSize: 40 * 16_384 + 5, pieceLength: 16 << 10,
                                              in: seedDir, seed: 3)
        // The leecher already has the first half of the file, and garbage in the rest.
        let leechDir = harness.root.appendingPathComponent("leech")
        try FileManager.default.createDirectory(at: leechDir, withIntermediateDirectories: true)
        var partial = try Data(contentsOf: seedDir.appendingPathComponent("data.bin"))
        for index in stride(from: partial.count / 2, to: partial.count, by: 1000) { partial[index] ^= 0xFF }
        try partial.write(to: leechDir.appendingPathComponent("data.bin"))

        let seeder = try await harness.startSession("seed")
        try await seeder.add(torrent)
        let leecher = try await harness.startSession("leech")
        try await leecher.add(torrent)
        let checked = await harness.waitUntil(timeout: .seconds(120)) {
            let snapshot = await leecher.snapshot()
            return snapshot.torrents.first.map { $0.activity != .checking } ?? false
        }
        #expect(checked)
        let done = await harness.waitUntil(timeout: .seconds(120)) {
            await leecher.snapshot().torrents.first?.isComplete == true
        }
        #expect(done)
        let downloaded = await leecher.snapshot().torrents.first?.downloaded ?? 0
        #expect(downloaded > 0 && downloaded < Int64(torrent.info.totalLength), "only the damaged half is fetched")
        #expect(FileManager.default.contentsEqual(atPath: seedDir.appendingPathComponent("data.bin").path,
                                                  andPath: leechDir.appendingPathComponent("data.bin").path))
        await harness.stopAll()
    }
}

@Suite("Trackers: UDP and tiers", .serialized)
struct TrackerClientTests {
    /// The only tracker is UDP; peers still find each other.
    @Test func swarmThroughAUDPTracker() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker(udp: true)
        let udpURL = try #require(harness.tracker.udpAnnounceURL)
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "u.bin", files: nil, singleSize: 200_000, pieceLength: 16 << 10,
                                              in: seedDir, seed: 4, trackers: [[udpURL]])
        // This tests that UDP trackers work, not their timeouts: the harness's 0.5 s first wait
        // lost the leecher's last announce once under the full suite's load on CI.
        let patient = UDPTrackerClient.Retry(firstTimeout: .seconds(2), attempts: 3)
        let seeder = try await harness.startSession("seed") { $0.udpTrackerRetry = patient }
        try await seeder.add(torrent)
        let leecher = try await harness.startSession("leech") { $0.udpTrackerRetry = patient }
        try await leecher.add(torrent)
        // Seconds alone; a lost announce under load costs a backoff (15 s) before the retry.
        #expect(await harness.waitUntil(timeout: .seconds(90)) { await leecher.snapshot().torrents.first?.isComplete == true })
        let tracker = try #require(await leecher.snapshot().torrents.first?.trackers.first)
        #expect(tracker.error == nil && tracker.seeders != nil, "\(tracker)")
        await harness.stopAll()
    }

    /// Every tracker is scraped, also one in a tier we never announce to; HTTP and UDP scrapes
    /// both land in the snapshot, and a completed download shows in the tracker's count.
    @Test func everyTrackerIsScraped() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker(udp: true)
        let udpURL = try #require(harness.tracker.udpAnnounceURL)
        let httpURL = harness.tracker.announceURL
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "s.bin", files: nil, singleSize: 150_000, pieceLength: 16 << 10,
                                              in: seedDir, seed: 8, trackers: [[httpURL], [udpURL]])
        let seeder = try await harness.startSession("seed")
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.trackers.first?.lastAnnounce != nil })
        // A long tracker timeout: under load a slow HTTP answer must not make the leecher fall
        // through to the UDP tier, which this test expects to be scraped and never announced to.
        let leecher = try await harness.startSession("leech") {
            $0.scrapeInterval = .seconds(1)
            $0.trackerTimeout = .seconds(30)
        }
        try await leecher.add(torrent)
        #expect(await harness.waitUntil(timeout: .seconds(60)) {
            let trackers = await leecher.snapshot().torrents.first?.trackers ?? []
            let http = trackers.first { $0.url == httpURL }, udp = trackers.first { $0.url == udpURL }
            return http?.completed == 1 && udp?.completed == 1 && udp?.seeders == 2 && udp?.leechers == 0
        })
        let trackers = await leecher.snapshot().torrents.first?.trackers ?? []
        let udp = try #require(trackers.first { $0.url == udpURL })
        let http = try #require(trackers.first { $0.url == httpURL })
        #expect(udp.lastAnnounce == nil && udp.lastScrape != nil, "the backup tier is scraped, not announced to: \(udp); \(http)")
        await harness.stopAll()
    }

    /// A dead first tier falls through to the next (BEP 12).
    @Test func deadTierFallsThrough() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let dead = "http://127.0.0.1:\(ExternalProcess.freePort())/announce"
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "t.bin", files: nil, singleSize: 100_000, pieceLength: 16 << 10,
                                              in: seedDir, seed: 6, trackers: [[dead], [harness.tracker.announceURL]])
        let seeder = try await harness.startSession("seed")
        try await seeder.add(torrent)
        let leecher = try await harness.startSession("leech")
        try await leecher.add(torrent)
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await leecher.snapshot().torrents.first?.isComplete == true })
        let trackers = await leecher.snapshot().torrents.first?.trackers ?? []
        #expect(trackers.first { $0.url == dead }?.error != nil)
        let live = trackers.first { $0.url == harness.tracker.announceURL }
        #expect(live?.error == nil && live?.lastAnnounce != nil, "\(String(describing: live))")
        await harness.stopAll()
    }
}
