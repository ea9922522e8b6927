import Foundation
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Testing

/// Trackers a user edits: a dead one replaced by a working one is announced to at once, and the
/// edit outlives a restart; bad URLs are refused with the reason; Transmission's edit arguments
/// give the tiers they name.
@Suite("Editing a torrent's trackers")
struct TrackerEditTests {
    @Test func replacedTrackerIsUsedAndKept() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let dead = "http://127.0.0.1:9/announce"
        let torrent = try harness.makeTorrent(name: "edited.bin", files: nil, singleSize: 50_000, pieceLength: 16 << 10, in: seedDir,
                                              seed: 71, trackers: [[dead]])
        let state = harness.root.appendingPathComponent("state").path
        let first = try await harness.startSession("seed") { $0.stateDirectory = state }
        let hash = try await first.add(torrent)
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await first.snapshot().torrents.first?.trackers.first?.error != nil })
        let working = harness.tracker.announceURL
        try await first.setTrackers(hash, [[" " + working + " "], [dead, working], []])
        let tiers = await first.snapshot().torrents.first?.trackers.map { "\($0.tier) \($0.url)" }
        #expect(tiers == ["0 \(working)", "1 \(dead)"], "trimmed, each URL once, no empty tier: \(tiers ?? [])")
        #expect(await harness.waitUntil(timeout: .seconds(30)) {
            await first.snapshot().torrents.first?.trackers.first { $0.url == working }?.status == "working"
        }, "the new tracker is asked at once")
        await #expect(throws: Session.SessionError.self) { try await first.setTrackers(hash, [["ftp://example/announce"]]) }
        await first.shutdown()

        let second = try await harness.startSession("seed") { $0.stateDirectory = state }
        #expect(await second.restore().isEmpty)
        #expect(await second.snapshot().torrents.first?.trackers.map(\.url) == [working, dead], "the edit outlives a restart")
        // The torrent's own trackers back: the edit is forgotten.
        try await second.setTrackers(hash, [[dead]])
        await second.shutdown()
        let saved = try SessionStore(directory: state).loadEntries()
        #expect(saved.first?.trackers == nil)
        await harness.stopAll()
    }

    @Test func transmissionEditArguments() throws {
        let current = [TrackerSnapshot(url: "http://a/announce", tier: 0, status: "", error: nil, lastAnnounce: nil, nextAnnounce: nil,
                                       seeders: nil, leechers: nil, peersReturned: 0),
                       TrackerSnapshot(url: "http://b/announce", tier: 0, status: "", error: nil, lastAnnounce: nil, nextAnnounce: nil,
                                       seeders: nil, leechers: nil, peersReturned: 0),
                       TrackerSnapshot(url: "udp://c:80", tier: 1, status: "", error: nil, lastAnnounce: nil, nextAnnounce: nil,
                                       seeders: nil, leechers: nil, peersReturned: 0)]
        #expect(try TransmissionRPC.editedTrackers([:], current: current) == nil)
        #expect(try TransmissionRPC.editedTrackers(["trackerRemove": [1]], current: current) == [["http://a/announce"], ["udp://c:80"]])
        #expect(try TransmissionRPC.editedTrackers(["trackerReplace": [2, "udp://d:80"], "trackerAdd": ["http://e/announce"]],
                                                   current: current)
                == [["http://a/announce", "http://b/announce"], ["udp://d:80"], ["http://e/announce"]])
        #expect(try TransmissionRPC.editedTrackers(["trackerList": "http://x/a\n\n\nhttp://y/a\nhttp://z/a\n"], current: current)
                == [["http://x/a"], ["http://y/a", "http://z/a"]])
        #expect(throws: (any Error).self) { try TransmissionRPC.editedTrackers(["trackerRemove": [7]], current: current) }
        #expect(throws: TrackerListEdit.Invalid.self) { try TrackerListEdit.validated([["http://ok/a", "not a url"]]) }
    }
}
