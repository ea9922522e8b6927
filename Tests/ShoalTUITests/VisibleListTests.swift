import Foundation
import ShoalCore
@testable import ShoalEngine
import Testing
@testable import ShoalTUI

/// The list sorted once per snapshot and settings, with equals in the session's order.
@Suite("The list: sorting and its cache")
struct VisibleListTests {
    static func torrents(_ names: [String], sizes: [Int64]) -> [TorrentSnapshot] {
        zip(names, sizes).enumerated().map { index, pair in
            var torrent = ScreenTests.torrent(pair.0, seed: UInt8(index + 1))
            torrent.totalSize = pair.1
            return torrent
        }
    }

    @Test func equalsKeepTheSessionsOrderAndNamesIgnoreCase() {
        let list = Self.torrents(["b", "A", "c", "a"], sizes: [5, 7, 5, 7])
        #expect(SortOrder.size.sorted(list).map(\.name) == ["A", "a", "b", "c"], "biggest first, ties as added")
        #expect(SortOrder.size.sorted(list, reversed: true).map(\.name) == ["c", "b", "a", "A"])
        #expect(SortOrder.name.sorted(list).map(\.name) == ["A", "a", "b", "c"])
        #expect(SortOrder.added.sorted(list).map(\.name) == ["b", "A", "c", "a"])
        #expect(SortOrder.added.sorted(list, reversed: true).map(\.name) == ["a", "c", "A", "b"])
    }

    @Test func theListIsMadeOncePerSnapshotAndSettings() {
        let cache = VisibleListCache()
        var made = 0
        let torrents = Self.torrents(["x", "y"], sizes: [1, 2])
        let settings = VisibleListCache.Settings(view: .all, filter: "", sort: .size, reversed: false)
        func list(_ torrents: [TorrentSnapshot], _ settings: VisibleListCache.Settings) -> [String] {
            cache.list(torrents, settings) {
                made += 1
                return settings.sort.sorted(torrents, reversed: settings.reversed)
            }.map(\.name)
        }
        #expect(list(torrents, settings) == ["y", "x"])
        #expect(list(torrents, settings) == ["y", "x"] && made == 1, "the same snapshot: kept")
        var reversed = settings
        reversed.reversed = true
        #expect(list(torrents, reversed) == ["x", "y"] && made == 2, "other settings: made again")
        // A new snapshot (new storage), even with equal contents, is sorted afresh.
        var next = torrents
        next[0].totalSize = 9
        #expect(list(next, reversed) == ["y", "x"] && made == 3)
    }

    @Test func aKeyChangingTheSortShowsTheNewOrderAtOnce() {
        let snapshot = ScreenTests.session(Self.torrents(["small", "big"], sizes: [1, 9]))
        var state = UIState()
        state.observe(snapshot, now: .now)
        #expect(state.visible(snapshot).map(\.name) == ["small", "big"])
        state.sort = .size
        #expect(state.visible(snapshot).map(\.name) == ["big", "small"])
        state.filter = "sma"
        #expect(state.visible(snapshot).map(\.name) == ["small"])
    }
}
