import Foundation
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Testing

/// `torrent-get`'s kept rows: right for the snapshot object and column list they were written
/// for, never for another, and never stale after a change to a paused torrent.
@Suite("torrent-get rows kept for resting torrents", .serialized)
struct TorrentRowCacheTests {
    static func shared(_ name: String) -> SharedSnapshot {
        let snapshot = TorrentSnapshot(
            id: InfoHash(bytes: [UInt8](repeating: 7, count: 20))!, name: name, totalSize: 1, wantedSize: 1, haveSize: 0,
            activity: .paused, error: nil, downloadRate: 0, uploadRate: 0, downloaded: 0, uploaded: 0, eta: nil,
            pieces: Bitfield(count: 1), piecesInProgress: [], availability: [], peers: [], trackers: [], files: [],
            downloadDirectory: "/tmp/x", isPrivate: false, hashFailures: 0, bannedPeers: 0, piecesHashedOnCheck: 0)
        return SharedSnapshot(snapshot, resting: true)
    }

    @Test func aRowMatchesOnlyItsSnapshotAndColumns() {
        var cache = TorrentRowCache()
        let list: [TorrentField] = [.id, .name, .status]
        let detail: [TorrentField] = [.id, .files]
        let one = Self.shared("one")
        let place = cache.place(for: list)
        #expect(cache.row(place: place, id: 3, source: one) == nil)
        cache.keep(Array("row".utf8), place: place, id: 3, source: one)
        #expect(cache.row(place: place, id: 3, source: one) == Array("row".utf8))
        #expect(cache.row(place: place, id: 3, source: Self.shared("one")) == nil, "another object, even with the same contents")
        #expect(cache.row(place: place, id: 4, source: one) == nil)
        #expect(cache.place(for: list) == place)
        let other = cache.place(for: detail)
        #expect(other != place)
        #expect(cache.row(place: other, id: 3, source: one) == nil)
        cache.forget(id: 3)
        #expect(cache.row(place: place, id: 3, source: one) == nil)
        #expect(cache.count == 0)
    }

    @Test func aNewColumnListTakesTheLeastRecentlyUsedPlace() {
        var cache = TorrentRowCache()
        let first: [TorrentField] = [.id]
        let second: [TorrentField] = [.name]
        let third: [TorrentField] = [.status]
        let source = Self.shared("t")
        let a = cache.place(for: first)
        cache.keep([1], place: a, id: 1, source: source)
        let b = cache.place(for: second)
        cache.keep([2], place: b, id: 1, source: source)
        _ = cache.place(for: first)  // `second` is now the older
        let c = cache.place(for: third)
        #expect(c == b && TorrentRowCache.placeCount == 2)
        #expect(cache.row(place: c, id: 1, source: source) == nil, "the row written for `second` is not `third`'s")
        #expect(cache.row(place: a, id: 1, source: source) == [1])
        #expect(cache.count == 1, "at most one row per place per torrent")
        // `second` again: `first` (used before `third`) gives up its place and its rows.
        let again = cache.place(for: second)
        #expect(again == a && cache.row(place: again, id: 1, source: source) == nil)
        #expect(cache.count == 0)
    }

    @Test func fieldsThatReadMoreThanTheSnapshotAreNotKept() {
        #expect(!TorrentField.queuePosition.followsSnapshot && !TorrentField.seedRatioLimit.followsSnapshot)
        #expect(!TorrentField.trackerStats.followsSnapshot)
        #expect(TorrentField.activityDate.followsSnapshot && TorrentField.labels.followsSnapshot)
    }

    /// A paused torrent's row is written once and copied after; every change to the torrent
    /// (labels, limits, place, starting and stopping) shows in the next answer all the same.
    @Test func keptRowsFollowEveryChange() async throws {
        let daemon = try await RemoteControlTests.start()
        let content = daemon.harness.root.appendingPathComponent("content")
        let torrent = try daemon.harness.makeTorrent(name: "kept.bin", files: nil, singleSize: 40_000, pieceLength: 16 << 10,
                                                     in: content, seed: 9, trackers: [])
        let added = try await daemon.call("torrent-add", ["metainfo": .string(Data(torrent.fileBytes).base64EncodedString()),
                                                          "paused": true, "download-dir": .string(content.path)])
        let id = try #require(added.body["arguments"]?["torrent-added"]?["id"]?.int)
        let fields: JSONValue = ["id", "name", "status", "labels", "downloadLimit", "downloadLimited", "downloadDir", "percentDone"]
        @Sendable func row(_ fields: JSONValue = fields) async throws -> JSONValue {
            let got = try await daemon.call("torrent-get", ["fields": fields])
            return try #require(got.body["arguments"]?["torrents"]?.array?.first { $0["id"]?.int == id })
        }
        let first = try await row()
        #expect(first["status"]?.int == 0 && first["labels"] == [] && first["downloadDir"]?.string == content.path)
        #expect(try await row() == first, "the kept row says the same")

        // One change at a time: each must make the kept row stale on its own.
        _ = try await daemon.call("torrent-set", ["ids": .int(id), "labels": ["kept"]])
        var now = try await row()
        #expect(now["labels"] == ["kept"])
        _ = try await daemon.call("torrent-set", ["ids": .int(id), "downloadLimit": 50, "downloadLimited": true])
        now = try await row()
        #expect(now["labels"] == ["kept"] && now["downloadLimit"]?.int == 50 && now["downloadLimited"] == true)
        // Two other column lists in between take both places; the first list is written afresh.
        #expect(try await row(["id", "name"]) == ["id": .int(id), "name": "kept.bin"])
        #expect(try await row(["id", "labels"]) == ["id": .int(id), "labels": ["kept"]])
        #expect(try await row() == now)

        let elsewhere = daemon.harness.root.appendingPathComponent("elsewhere").path
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        _ = try await daemon.call("torrent-set-location", ["ids": .int(id), "location": .string(elsewhere), "move": false])
        #expect(await daemon.harness.waitUntil(timeout: .seconds(20)) { (try? await row())?["downloadDir"]?.string == elsewhere })

        _ = try await daemon.call("torrent-start", ["ids": .int(id)])
        #expect(await daemon.harness.waitUntil(timeout: .seconds(20)) { (try? await row())?["status"]?.int != 0 })
        _ = try await daemon.call("torrent-stop", ["ids": .int(id)])
        #expect(await daemon.harness.waitUntil(timeout: .seconds(20)) { (try? await row())?["status"]?.int == 0 })
        now = try await row()
        #expect(now["labels"] == ["kept"] && now["downloadDir"]?.string == elsewhere)
        await RemoteControlTests.stop(daemon)
    }
}
