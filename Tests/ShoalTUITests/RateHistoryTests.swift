import Foundation
import ShoalCore
@testable import ShoalEngine
import Testing
@testable import ShoalTUI

/// The Rates tab's history over many simulated minutes: one sample a second, the last five
/// minutes kept (never more, never fewer once full), a removed torrent's series dropped.
@Suite("Rate history")
struct RateHistoryTests {
    @Test func keepsTheLastFiveMinutesOverAnHour() {
        var history = RateHistory()
        let start = ContinuousClock.now
        var torrents = [ScreenTests.torrent("a", seed: 1), ScreenTests.torrent("b", seed: 2)]
        for second in 0..<3_600 {
            torrents[0].downloadRate = Double(second)
            if second == 1_800 { torrents.removeLast() }
            // Twice a second, as snapshots come: the second of each pair is not a sample.
            for half in 0..<2 {
                history.record(ScreenTests.session(torrents), now: start + .seconds(second) + .milliseconds(500 * half))
            }
            let series = history.series(for: torrents[0].id)
            #expect(series.down.count == min(second + 1, RateHistory.capacity))
            #expect(series.down.last == Double(second) && series.down.first == Double(max(0, second + 1 - RateHistory.capacity)))
        }
        #expect(history.torrents.count == 1, "b's series went with it")
        #expect(history.total.down.count == RateHistory.capacity && history.total.up.count == RateHistory.capacity)
    }

    /// Idle torrents keep no series, yet show one like the others; a torrent that goes quiet
    /// keeps its series while the window still holds its data, and loses it after.
    @Test func idleTorrentsKeepNoSeries() {
        var history = RateHistory()
        let start = ContinuousClock.now
        var torrents = (0..<1_000).map { index -> TorrentSnapshot in
            var torrent = ScreenTests.torrent("t\(index)", seed: UInt8(index % 250))
            torrent.id = InfoHash(bytes: [UInt8](repeating: UInt8(index % 250), count: 18) + [UInt8(index / 250), 7])!
            torrent.downloadRate = 0
            torrent.uploadRate = 0
            return torrent
        }
        for second in 0..<500 {
            torrents[3].uploadRate = (100..<150).contains(second) ? 4_096 : 0
            history.record(ScreenTests.session(torrents), now: start + .seconds(second))
            let kept = history.torrents.count
            // Kept from its first sample until the window has only zeros of it.
            #expect(kept == ((100..<(149 + RateHistory.capacity)).contains(second) ? 1 : 0), "second \(second): \(kept) kept")
            let shown = history.series(for: torrents[3].id)
            #expect(shown.up.count == min(second + 1, RateHistory.capacity))
            #expect(shown.up.last == ((100..<150).contains(second) ? 4_096 : 0))
            #expect(history.series(for: torrents[500].id).up.allSatisfy { $0 == 0 })
        }
        // Its first samples: zeros before it moved, then its rate.
        var early = RateHistory()
        for second in 0..<5 {
            torrents[3].uploadRate = second >= 3 ? 1 : 0
            early.record(ScreenTests.session(torrents), now: start + .seconds(second))
        }
        #expect(Array(early.series(for: torrents[3].id).up) == [0, 0, 0, 1, 1])
    }
}
