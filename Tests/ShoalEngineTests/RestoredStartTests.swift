import Foundation
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Testing

/// A restore starts what has pieces to fetch at once and its seeds a few a second (see
/// `StartPacer`): a seed waiting shows as queued, and a pause meanwhile holds.
@Suite("Restored torrents start in turn", .serialized)
struct RestoredStartTests {
    @Test func seedsStartAFewASecondDownloadsAtOnceAndAPauseMeanwhileHolds() async throws {
        let harness = try SwarmHarness()
        let state = harness.root.appendingPathComponent("state").path
        let seedDir = harness.root.appendingPathComponent("seed")
        var added: [InfoHash] = []
        let first = try await harness.startSession("seed") { $0.stateDirectory = state }
        for n in 0..<6 {
            let torrent = try harness.makeTorrent(name: "s\(n).bin", files: nil, singleSize: 64 << 10, pieceLength: 16 << 10,
                                                  in: seedDir, seed: UInt64(n + 1), trackers: [])
            added.append(try await first.add(torrent))
        }
        let seeds = added
        // Its data is elsewhere: it has every piece to fetch.
        let wanting = try await first.add(try harness.makeTorrent(name: "w.bin", files: nil, singleSize: 64 << 10, pieceLength: 16 << 10,
                                                                  in: harness.root.appendingPathComponent("other"), seed: 9,
                                                                  trackers: []))
        #expect(await harness.waitUntil(timeout: .seconds(30)) {
            await first.snapshot().torrents.filter { $0.activity == .seeding }.count == 6
        })
        await first.shutdown()

        let second = try await harness.startSession("seed") {
            $0.stateDirectory = state
            $0.restoredSeedStartsPerSecond = 2
        }
        #expect(await second.restore().isEmpty)
        let restored = Dictionary(uniqueKeysWithValues: await second.snapshot().torrents.map { ($0.id, $0.activity) })
        #expect(restored[wanting] != .queued && restored[wanting] != .paused, "the download starts at once: \(restored)")
        #expect(seeds.filter { restored[$0] == .queued }.count == 4, "two seeds start at once, four wait: \(restored)")
        let last = try #require(seeds.last)
        #expect(restored[last] == .queued)
        try await second.pause(last)
        #expect(await second.snapshot().torrents.first { $0.id == last }?.activity == .paused)
        // The others start in turn; once the pacer has let everyone go, the paused one is still paused.
        #expect(await harness.waitUntil(timeout: .seconds(30)) {
            let torrents = await second.snapshot().torrents
            return await second.pacedStarts.isEmpty && seeds.dropLast().allSatisfy { hash in
                torrents.first { $0.id == hash }?.activity == .seeding
            }
        })
        #expect(await second.snapshot().torrents.first { $0.id == last }?.activity == .paused)
        await second.shutdown()

        // And so it is after another restart; the rest run.
        let third = try await harness.startSession("seed") { $0.stateDirectory = state }
        #expect(await third.restore().isEmpty)
        #expect(await harness.waitUntil(timeout: .seconds(30)) {
            let torrents = await third.snapshot().torrents
            return seeds.dropLast().allSatisfy { hash in torrents.first { $0.id == hash }?.activity == .seeding }
        })
        #expect(await third.snapshot().torrents.first { $0.id == last }?.activity == .paused)
        await harness.stopAll()
    }
}
