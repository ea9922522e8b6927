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
            let series = history.torrents[torrents[0].id]
            #expect(series?.down.count == min(second + 1, RateHistory.capacity))
            #expect(series?.down.last == Double(second) && series?.down.first == Double(max(0, second + 1 - RateHistory.capacity)))
        }
        #expect(history.torrents.count == 1, "b's series went with it")
        #expect(history.total.down.count == RateHistory.capacity && history.total.up.count == RateHistory.capacity)
    }
}
