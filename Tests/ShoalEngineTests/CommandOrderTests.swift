import Foundation
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Synchronization
import Testing

/// Commands for one torrent take turns: one's `await`s never interleave with another's. A
/// tracker that never answers `stopped` holds a pause open (for its 3 s timeout), so the second
/// command surely arrives while the first is under way.
@Suite("Commands for one torrent take turns", .serialized)
struct CommandOrderTests {
    final class StoppedSeen: Sendable {
        let count = Atomic<Int>(0)
    }

    static func seedingWithSlowStop(_ harness: SwarmHarness, name: String) async throws -> (Session, InfoHash, StoppedSeen, FakeHTTPServer) {
        let seen = StoppedSeen()
        let tracker = try FakeHTTPServer { request in
            if request.contains("event=stopped") {
                seen.count.add(1, ordering: .relaxed)
                return nil  // no answer: the pause waits for its timeout
            }
            return Array("d8:intervali1800e5:peers0:e".utf8)
        }
        let torrent = try harness.makeTorrent(name: name, files: nil, singleSize: 200_000, pieceLength: 16 << 10,
                                              in: harness.root.appendingPathComponent("seed"), seed: 4, trackers: [[tracker.announceURL]])
        let session = try await harness.startSession("seed")
        let hash = try await session.add(torrent)
        #expect(await harness.waitUntil {
            await session.snapshot().torrents.first.map { $0.activity == .seeding && $0.trackers.first?.status == "working" } ?? false
        })
        return (session, hash, seen, tracker)
    }

    /// Limits set while a pause waits for its tracker are kept, in the entry and in the new
    /// runtime. (The pause wrote back a copy of the entry taken before its `await`s: the limits
    /// set meanwhile were lost.)
    @Test func limitsSetDuringAPauseAreKept() async throws {
        let harness = try SwarmHarness()
        let (session, hash, seen, tracker) = try await Self.seedingWithSlowStop(harness, name: "limits.bin")
        async let paused: Void = session.pause(hash)
        #expect(await harness.waitUntil(timeout: .seconds(10)) { seen.count.load(ordering: .relaxed) == 1 }, "the pause is under way")
        try await session.setTorrentLimits(hash, upload: 10_240, download: 20_480)
        try await paused
        let entry = try #require(await session.entries[hash])
        #expect(entry.paused)
        #expect(entry.uploadLimit == 10_240 && entry.downloadLimit == 20_480)
        #expect(entry.runtime?.uploadLimiter.rate == 10_240 && entry.runtime?.downloadLimiter.rate == 20_480, "the new runtime has them")
        tracker.stop()
        await harness.stopAll()
    }

    /// Pause, then resume before the pause has finished: the torrent ends up running, as the
    /// last command said. (The resume found it not yet paused and did nothing; then the pause
    /// finished and it stayed paused.)
    @Test func resumeDuringAPauseWins() async throws {
        let harness = try SwarmHarness()
        let (session, hash, seen, tracker) = try await Self.seedingWithSlowStop(harness, name: "resume.bin")
        async let paused: Void = session.pause(hash)
        #expect(await harness.waitUntil(timeout: .seconds(10)) { seen.count.load(ordering: .relaxed) == 1 }, "the pause is under way")
        try await session.resume(hash)
        try await paused
        #expect(await harness.waitUntil { await session.snapshot().torrents.first?.activity == .seeding }, "running again")
        tracker.stop()
        await harness.stopAll()
    }

    /// Forty commands at once for one torrent: the entry and its runtime agree afterwards, and it still runs.
    @Test func aBurstOfCommandsLeavesTheTorrentConsistent() async throws {
        let harness = try SwarmHarness()
        let torrent = try harness.makeTorrent(name: "burst.bin", files: nil, singleSize: 200_000, pieceLength: 16 << 10,
                                              in: harness.root.appendingPathComponent("seed"), seed: 5, trackers: [])
        let session = try await harness.startSession("seed")
        let hash = try await session.add(torrent)
        await withThrowingTaskGroup(of: Void.self) { group in
            for round in 0..<20 {
                group.addTask { try await session.setTorrentLimits(hash, upload: round, download: round) }
                group.addTask { round.isMultiple(of: 2) ? try await session.pause(hash) : try await session.resume(hash) }
            }
        }
        let entry = try #require(await session.entries[hash])
        #expect(entry.uploadLimit == entry.runtime?.uploadLimiter.rate, "the entry and its runtime agree")
        #expect(await session.snapshot().torrents.count == 1)
        try await session.resume(hash)
        #expect(await harness.waitUntil { await session.snapshot().torrents.first?.activity == .seeding })
        await harness.stopAll()
    }
}
