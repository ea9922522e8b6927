/// Spreads the starts of many torrents over time. A restored seedbox's seeds each cost a start
/// (the check of their resume data, a first tick, a timer): 100,000 of them at once took both
/// cores for ten seconds, and the few torrents downloading, started among them, waited. The
/// pacer lets `perSecond` through each second, the first `perSecond` at once (a session of a
/// few thousand starts as it always did), in the order added. The caller may lower the rate
/// for a while (`setRate`): while torrents download, starting seeds takes CPU from them.
/// Pure: time is the caller's.
public struct StartPacer<ID: Hashable & Sendable>: Sendable {
    public private(set) var perSecond: Int
    private var waiting: [ID] = []
    private var head = 0
    /// Starts the elapsed time has earned and not yet used, at most a second's worth: a caller
    /// that stalled gets one second's starts, not a burst of all it missed.
    private var allowance: Double
    private var last: ContinuousClock.Instant?

    public init(perSecond: Int) {
        self.perSecond = max(1, perSecond)
        allowance = Double(self.perSecond)
    }

    /// From now on `perSecond` a second; what was earned and not used is kept up to one
    /// second's worth at the new rate.
    public mutating func setRate(_ perSecond: Int) {
        self.perSecond = max(1, perSecond)
        allowance = min(allowance, Double(self.perSecond))
    }

    public var isEmpty: Bool { head == waiting.count }
    public var count: Int { waiting.count - head }

    public mutating func add(_ id: ID) { waiting.append(id) }

    /// The ids whose turn has come by `now`, oldest first.
    public mutating func release(now: ContinuousClock.Instant) -> [ID] {
        if let last, now > last {
            let elapsed = now - last
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            allowance = min(Double(perSecond), allowance + seconds * Double(perSecond))
        }
        last = max(last ?? now, now)
        let taken = min(count, Int(allowance))
        allowance -= Double(taken)
        let out = Array(waiting[head..<head + taken])
        head += taken
        if isEmpty {
            waiting.removeAll()
            head = 0
        }
        return out
    }

    /// How long until the next one may go (zero when one may now; nil when none waits).
    public func wait(now: ContinuousClock.Instant) -> Duration? {
        guard !isEmpty else { return nil }
        let lacking = 1 - allowance
        guard lacking > 0 else { return .zero }
        let since = last.map { now - $0 } ?? .zero
        let needed = Duration.nanoseconds(Int64((lacking / Double(perSecond) * 1e9).rounded(.up)))
        return max(.zero, needed - since)
    }
}
