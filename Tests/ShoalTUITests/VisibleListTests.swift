import Foundation
import ShoalCore
@testable import ShoalEngine
import Testing
@testable import ShoalTUI

/// The list sorted once per snapshot and settings, kept up to date from what changed, with
/// equals in the session's order.
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

    @Test func activityCountsAddUpAcrossChunks() {
        let activities: [TorrentActivity] = [.seeding, .downloading, .paused, .queued]
        let torrents = (0..<1_000).map { index in
            var torrent = ScreenTests.torrent("t\(index)", seed: UInt8(index % 250 + 1))
            torrent.activity = activities[index % 7 == 0 ? 1 : index % 13 == 0 ? 2 : index % 17 == 0 ? 3 : 0]
            return torrent
        }
        let counts = TorrentList(torrents).activityCounts
        var expected: [TorrentActivity: Int] = [:]
        for torrent in torrents { expected[torrent.activity, default: 0] += 1 }
        #expect(counts == expected && counts.values.reduce(0, +) == 1_000, "\(counts)")
        #expect(TorrentList([]).activityCounts.isEmpty)
    }

    @Test func theListIsMadeOncePerSnapshotAndSettings() {
        let cache = VisibleListCache()
        let list = TorrentList(Self.torrents(["x", "y"], sizes: [1, 2]))
        let settings = VisibleListCache.Settings(view: .all, filter: "", sort: .size, reversed: false)
        let first = cache.rows(list, settings)
        #expect(first.map(\.name) == ["y", "x"])
        #expect(cache.rows(list, settings).order == first.order, "the same snapshot: the same rows")
        var reversed = settings
        reversed.reversed = true
        #expect(cache.rows(list, reversed).map(\.name) == ["x", "y"], "other settings: made again")
        // A new snapshot whose torrent changed size is sorted by the new size.
        var next = Array(list)
        next[0].totalSize = 9
        #expect(cache.rows(TorrentList(next), reversed).map(\.name) == ["y", "x"])
        // Unsorted and unfiltered: the snapshot's own list, no positions at all.
        let added = VisibleListCache.Settings(view: .all, filter: "", sort: .added, reversed: false)
        #expect(cache.rows(list, added).order == nil)
    }

    /// Snapshots from the session's shared objects: a refresh in which `changed` torrents got
    /// new objects; the others are the same objects, so their chunks are reused.
    static func refresh(_ shared: inout [SharedSnapshot], _ list: TorrentList, changing changed: [Int: TorrentSnapshot]) -> TorrentList {
        for (position, torrent) in changed { shared[position] = SharedSnapshot(torrent, resting: false) }
        return TorrentList(shared, reusing: list)
    }

    @Test func theSessionsListRebuildsOnlyTheChunksThatChanged() {
        let count = TorrentList.chunkSize * 2 + 10
        var shared = (0..<count).map { n in
            var torrent = ScreenTests.torrent("t\(n)", peers: 0, seed: 1)
            torrent.id = InfoHash(bytes: (0..<20).map { UInt8(truncatingIfNeeded: n >> ($0 % 4 * 8)) &+ UInt8($0) })!
            torrent.downloadRate = 0
            torrent.uploadRate = 0
            return SharedSnapshot(torrent, resting: false)
        }
        let first = TorrentList(shared, reusing: TorrentList([]))
        #expect(first.count == count && first.chunkCount == 3 && first.positions(ofChunk: 2) == 512..<522)
        let same = TorrentList(shared, reusing: first)
        #expect(same.sameTorrents(as: first), "nothing changed: every chunk taken over")
        var moving = shared[300].snapshot
        moving.downloadRate = 1_000
        let next = Self.refresh(&shared, same, changing: [300: moving])
        #expect(next.sharesChunk(0, with: first) && !next.sharesChunk(1, with: first) && next.sharesChunk(2, with: first))
        #expect(next.moving == [300] && next.downloadRate == 1_000 && next[300].downloadRate == 1_000)
        #expect(next.position(of: shared[517].snapshot.id) == 517 && next.position(of: InfoHash(bytes: [UInt8](repeating: 0xEE, count: 20))!) == nil)
        #expect(next.map(\.name) == shared.map(\.snapshot.name), "every torrent in the session's order")
        // A torrent removed: the chunks after it shift, and none is reused wrongly.
        shared.remove(at: 5)
        let shorter = TorrentList(shared, reusing: next)
        #expect(shorter.count == count - 1 && shorter.map(\.name) == shared.map(\.snapshot.name))
    }

    /// The order kept up to date from the changed chunks is the order a full sort gives, over
    /// many rounds of random changes, for every sort, direction, view and filter.
    @Test func theKeptOrderIsAlwaysTheFullSortsOrder() {
        var random = SystemRandomNumberGenerator()
        let count = TorrentList.chunkSize * 3 - 40
        let activities: [TorrentActivity] = [.seeding, .downloading, .paused, .queued]
        func make(_ n: Int) -> TorrentSnapshot {
            var torrent = ScreenTests.torrent("n\(Int.random(in: 0..<50, using: &random))", peers: 0, seed: 1)
            torrent.id = InfoHash(bytes: (0..<20).map { UInt8(truncatingIfNeeded: n >> ($0 % 4 * 8)) &+ UInt8($0) })!
            torrent.totalSize = Int64.random(in: 0..<20, using: &random)
            torrent.downloadRate = Bool.random(using: &random) ? 0 : Double(Int.random(in: 0..<5, using: &random))
            torrent.activity = activities.randomElement(using: &random)!
            torrent.eta = Bool.random(using: &random) ? nil : Int.random(in: 0..<9, using: &random)
            return torrent
        }
        for sort in SortOrder.allCases {
            for (reversed, view, filter) in [(false, TorrentView.all, ""), (true, .all, ""), (false, .seeding, ""), (true, .all, "n1")] {
                var shared = (0..<count).map { SharedSnapshot(make($0), resting: false) }
                var list = TorrentList(shared, reusing: TorrentList([]))
                let cache = VisibleListCache()
                let settings = VisibleListCache.Settings(view: view, filter: filter, sort: sort, reversed: reversed)
                for round in 0..<40 {
                    // A few torrents change most rounds, many now and then (a full sort then).
                    let changes = round % 10 == 9 ? 100 : Int.random(in: 0...4, using: &random)
                    var changed: [Int: TorrentSnapshot] = [:]
                    for _ in 0..<changes {
                        let position = Int.random(in: 0..<count, using: &random)
                        var torrent = make(position)
                        torrent.id = shared[position].snapshot.id
                        changed[position] = torrent
                    }
                    list = Self.refresh(&shared, list, changing: changed)
                    let expected = sort.sorted(Array(list).filter { view.contains($0) && (filter.isEmpty || $0.name.contains(filter)) },
                                               reversed: reversed).map(\.id)
                    let rows = cache.rows(list, settings)
                    #expect(rows.map(\.id) == expected, "\(sort) reversed \(reversed) \(view.title) '\(filter)', round \(round)")
                    if let probe = expected.randomElement(using: &random) { #expect(rows.index(of: probe).map { rows[$0].id } == probe) }
                }
            }
        }
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
