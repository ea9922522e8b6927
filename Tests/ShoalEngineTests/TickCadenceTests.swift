import Foundation
import ShoalCore
@testable import ShoalEngine
import Testing

/// A torrent's tick: once a second while it has peers, and an idle one (no peers: most torrents
/// of a large session) only when something falls due, at most `idleTick` apart, yet never late
/// for a dial retry or an announce.
/// Run over simulated hours on an injected clock.
@Suite("Torrent tick cadence")
struct TickCadenceTests {
    static let start = ContinuousClock.now

    @Test func busyTorrentsTickEverySecond() {
        let delay = TorrentRuntime.tickDelay(busy: true, addresses: [], nextDue: Self.start + .seconds(600), now: Self.start)
        #expect(delay == .seconds(1))
        var dialing = DialState(nextTry: Self.start)
        dialing.dialing = true
        #expect(TorrentRuntime.tickDelay(busy: false, addresses: [dialing], nextDue: Self.start + .seconds(600), now: Self.start)
            == .seconds(1), "a dial under way may free a slot for the next")
        #expect(TorrentRuntime.tickDelay(busy: false, addresses: [], nextDue: nil, now: Self.start) == .seconds(1),
                "an announce due or in flight")
    }

    /// Three simulated hours of an idle torrent announcing every 30 min, with one address in
    /// backoff retried at odd times: a tick a minute, each announce and retry met within a
    /// second of its time.
    @Test func idleTorrentsTickRarelyAndOnTime() {
        let hours = 3
        let announces = (1...(hours * 2)).map { Self.start + .seconds(1_800 * $0) + .milliseconds(250) }
        let retries = [37, 251, 1_333, 7_000].map { Self.start + .seconds($0) + .milliseconds(700) }
        var now = Self.start
        var ticks: [ContinuousClock.Instant] = []
        while now < Self.start + .seconds(3_600 * hours + 10) {
            ticks.append(now)
            let announce = announces.first { $0 > now }
            let addresses = retries.filter { $0 > now }.prefix(1).map { DialState(nextTry: $0) }
            let delay = TorrentRuntime.tickDelay(busy: false, addresses: addresses, nextDue: announce, now: now)
            #expect(delay >= .seconds(1) && delay <= TorrentRuntime.idleTick)
            now += delay
        }
        #expect(ticks.count <= (3_600 * hours + 10) / 60 + 2 * (announces.count + retries.count) + 1, "\(ticks.count) ticks")
        for due in announces + retries {
            #expect(ticks.contains { $0 >= due && $0 < due + .seconds(1) }, "nothing ran within a second of \(due - Self.start)")
        }
    }
    /// Three simulated hours of an idle torrent scraping every 30 minutes, each scrape taking
    /// 3 s: one at a time, each begun within a second of its time (`interval` after the last
    /// one ended), the tick otherwise a minute apart.
    @Test func scrapesRecurOnTimeOverHours() {
        var schedule = ScrapeSchedule(interval: .seconds(1_800))
        schedule.start(now: Self.start)
        var now = Self.start
        var begun: [ContinuousClock.Instant] = []
        var ends: [ContinuousClock.Instant] = []
        var endsAt: ContinuousClock.Instant?
        var ticks = 0
        while now < Self.start + .seconds(3 * 3_600) {
            ticks += 1
            if let end = endsAt, now >= end {
                schedule.ended(now: end)
                ends.append(end)
                endsAt = nil
            }
            if schedule.takeIfDue(now: now) {
                #expect(endsAt == nil, "one scrape at a time")
                begun.append(now)
                endsAt = now + .seconds(3)
            }
            // As `nextTick`: the scrape's time among the deadlines; a second while one is under way.
            let due = endsAt == nil ? schedule.next ?? now + TorrentRuntime.idleTick : nil
            now += TorrentRuntime.tickDelay(busy: false, addresses: [], nextDue: due, now: now)
        }
        #expect(begun.count == 6, "\(begun.count) scrapes in three hours")
        #expect(begun.first == Self.start)
        for (end, next) in zip(ends, begun.dropFirst()) {
            #expect(next >= end + .seconds(1_800) && next < end + .seconds(1_801), "begun \(next - end) after the last ended")
        }
        #expect(ticks <= 3 * 60 + 6 * 6 + 2, "\(ticks) ticks")
    }
}

