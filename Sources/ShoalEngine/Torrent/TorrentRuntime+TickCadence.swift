import Foundation
import ShoalCore

/// When a torrent's tick runs: every second while it is busy, and when idle only when
/// something falls due (see `nextTick`), brought forward by `tickTimer.ring()`.
extension TorrentRuntime {
    /// The longest an idle torrent's tick sleeps when nothing falls due sooner: a bound on
    /// what a deadline `nextTick` missed could cost. Every deadline an idle torrent has is
    /// named there; at a minute, 100,000 idle seeds were 1,700 wakeups a second.
    static let idleTick: Duration = .seconds(15 * 60)

    /// A second while peers are connected or being dialled. Idle (no peers: most of a large
    /// session's seeds), until the next thing due — a dial retry, an announce (tracker or DHT),
    /// the resume save and file check, the seeding-time goal — at most `idleTick`: ten
    /// thousand idle torrents ticking every 5 s were 2,000 timer wakeups a second, an eighth of
    /// a core for nothing. A peer that arrives meanwhile needs no tick to be served (its
    /// messages, unchoking and requests are handled as they come), nor does a command.
    func nextTick(now: ContinuousClock.Instant) -> Duration {
        var due: ContinuousClock.Instant? = now + Self.idleTick
        // With trackers and no next announce, one is due or on its way (see `tickDelay`).
        if !trackers.isEmpty { due = announceSchedule.nextAnnounce.map { min($0, now + Self.idleTick) } }
        func also(_ instant: ContinuousClock.Instant?) {
            if let instant, let current = due { due = min(current, instant) }
        }
        also(nextDHTAnnounce)
        also(scrapeSchedule.next)
        if activity == .seeding || activity == .downloading { also((lastResumeSave ?? now) + resumeSaveInterval) }
        if activity == .seeding, let limit = config.seedTimeLimit, let completedAt {
            let left = Double(limit.components.seconds) - Date().timeIntervalSince(completedAt)
            also(now + .milliseconds(Int64(max(0, left) * 1000)))
        }
        // A server waiting out a failure is asked again at its time; one in use is busy.
        if activity == .downloading, let webSeeding { also(webSeeding.schedule.nextRetry) }
        let webSeedsBusy = activity == .downloading && !(webSeeding?.schedule.due(now: now).isEmpty ?? true) || webSeedsInFlight > 0
        return Self.tickDelay(busy: !peers.isEmpty || activity == .checking || webSeedsBusy, addresses: addresses.values, nextDue: due, now: now)
    }

    /// How long after the last resume save the next one (and the look at the files) is due:
    /// rarely for a torrent with no peers and nothing newly verified.
    var resumeSaveInterval: Duration {
        Self.resumeSaveInterval(idle: peers.isEmpty && savedHave != nil && picker?.have == savedHave, config: config)
    }

    /// `idle`: no peers, and nothing verified since the last save.
    static func resumeSaveInterval(idle: Bool, config: EngineConfig) -> Duration {
        idle ? config.idleFileCheckInterval : config.resumeSaveInterval
    }

    /// `nextDue`: the first of the torrent's own deadlines; nil when an announce is due or on
    /// its way (its answer brings peers to dial: tick every second meanwhile).
    static func tickDelay(busy: Bool, addresses: some Sequence<DialState>, nextDue: ContinuousClock.Instant?,
                          now: ContinuousClock.Instant) -> Duration {
        let second = Duration.seconds(1)
        guard !busy else { return second }
        var next = now + idleTick
        for state in addresses where !state.connected && !state.isSelf {
            if state.dialing { return second }
            next = min(next, state.nextTry)
        }
        guard let nextDue else { return second }
        next = min(next, nextDue)
        return max(second, next - now)
    }
}
