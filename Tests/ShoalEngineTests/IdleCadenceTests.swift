import Foundation
import ShoalCore
@testable import ShoalEngine
import Testing

/// What keeps 100,000 idle torrents cheap, run over simulated hours on an injected clock: an
/// idle torrent looks at its files every `idleFileCheckInterval` (every `resumeSaveInterval`
/// while it has peers), and the queue's 5-second round asks a complete, unchanged torrent at
/// most once a minute.
@Suite("Idle torrents over hours")
struct IdleCadenceTests {
    static let start = ContinuousClock.now

    /// Six hours of a seed's ticks and file checks; a peer is connected from 2:05 to 2:15 (its
    /// arrival rings the tick, as `register` does).
    @Test func fileChecksAreRareWhileIdleAndFrequentWithAPeer() {
        let config = EngineConfig(downloadDirectory: "/tmp")
        let peerFrom = Self.start + .seconds(7_500), peerUntil = Self.start + .seconds(8_100)
        var now = Self.start
        var lastCheck = Self.start
        var checks: [ContinuousClock.Instant] = []
        while now < Self.start + .seconds(6 * 3_600) {
            let peer = now >= peerFrom && now < peerUntil
            let interval = TorrentRuntime.resumeSaveInterval(idle: !peer, config: config)
            if now >= lastCheck + interval {
                checks.append(now)
                lastCheck = now
            }
            let next = lastCheck + TorrentRuntime.resumeSaveInterval(idle: !peer, config: config)
            let tick = now + TorrentRuntime.tickDelay(busy: peer, addresses: [], nextDue: next, now: now)
            now = now < peerFrom ? min(tick, peerFrom) : tick
        }
        let idle = checks.filter { $0 < peerFrom || $0 > peerUntil + config.idleFileCheckInterval }
        let busy = checks.filter { $0 >= peerFrom && $0 < peerUntil }
        // Idle: one look each 15 minutes, on time to the second.
        for (earlier, later) in zip(idle, idle.dropFirst()) where later < peerFrom || earlier > peerUntil {
            #expect(later - earlier >= config.idleFileCheckInterval && later - earlier < config.idleFileCheckInterval + .seconds(1))
        }
        #expect(checks.count < 6 * 4 + 25, "\(checks.count) checks in six hours")
        // The peer's arrival makes the next look come within a second, then every 30 s.
        #expect(busy.first.map { $0 - peerFrom < .seconds(1) } == true)
        #expect(busy.count >= 19 && busy.count <= 21, "\(busy.count) checks in the peer's 10 minutes")
        for (earlier, later) in zip(busy, busy.dropFirst()) {
            #expect(later - earlier >= config.resumeSaveInterval && later - earlier < config.resumeSaveInterval + .seconds(1))
        }
    }

    /// Two hours of 5-second queue rounds over a complete seed whose count of changes moves at
    /// odd times: asked in every round after a change, and otherwise once a minute.
    @Test func theQueueAsksAnUnchangedSeedOnceAMinute() {
        let changesAt = [17, 18, 400, 1_201, 3_333, 5_000, 5_004].map { Self.start + .seconds($0) }
        var now = Self.start
        var look: (changes: Int, at: ContinuousClock.Instant)?
        var asked: [ContinuousClock.Instant] = []
        var complete = false
        while now < Self.start + .seconds(2 * 3_600) {
            let changes = changesAt.filter { $0 <= now }.count
            if Session.queueAsks(complete: complete, lastLook: look, changes: changes, now: now) {
                asked.append(now)
                look = (changes, now)
                complete = true  // what the runtime answers
            } else {
                #expect(look?.changes == changes, "a change went unasked at \(now - Self.start)")
            }
            now += .seconds(5)
        }
        for (earlier, later) in zip(asked, asked.dropFirst()) {
            #expect(later - earlier <= Session.queueLookKept + .seconds(5))
        }
        #expect(asked.count <= 2 * 60 + changesAt.count + 1, "\(asked.count) asks in two hours")
        #expect(asked.count >= 2 * 60, "asked at least once a minute")
        // An incomplete torrent is asked in every round.
        #expect(Session.queueAsks(complete: false, lastLook: (3, now), changes: 3, now: now))
    }
}
