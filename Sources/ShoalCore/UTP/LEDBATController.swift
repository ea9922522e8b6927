/// LEDBAT congestion control (BEP 29, RFC 6817): the send window grows while the one-way delay
/// our packets see stays under a 100 ms target above the lowest delay of the last two minutes
/// (the path's base delay), and shrinks as a queue builds past it, so a uTP transfer yields to
/// TCP and keeps the user's modem queue short. Loss with a queue halves the window, loss without
/// one cuts it by a fifth; a timeout drops it to one packet. It starts in slow start (doubling
/// per round trip) until delay or loss shows the path's limit, as libtorrent does, so an idle
/// fast path fills in a few round trips.
public struct LEDBATController: Sendable, Equatable {
    public static let target: UInt32 = 100_000  // µs
    /// At most this many bytes more per round trip when the delay is at zero.
    public static let gain = 3_000
    public static let maximumWindow = 16 << 20

    public let packetSize: Int
    public private(set) var window: Int
    public private(set) var slowStart = true
    private var slowStartThreshold = Int.max
    /// The lowest delay sample of each of the last two minutes, and of this one: the base is
    /// their minimum, so a route change that lengthens the path is learned within two minutes.
    private var minuteMinimums: [UInt32] = []
    private var currentMinimum: UInt32?
    private var minuteStarted: ContinuousClock.Instant?
    /// The last few samples: the current delay is their minimum, which filters out one packet
    /// held up behind a burst.
    private var recent: [UInt32] = []
    /// The queueing delay the latest sample showed, in microseconds.
    public private(set) var queueing: UInt32 = 0

    public init(packetSize: Int, initialPackets: Int = 2) {
        self.packetSize = packetSize
        window = packetSize * max(1, initialPackets)
    }

    /// `a` is below `b` in the wrapping 32-bit clock difference space.
    private static func below(_ a: UInt32, _ b: UInt32) -> Bool { a != b && b &- a < 0x8000_0000 }

    /// The base delay so far (nil before the first sample).
    public var baseDelay: UInt32? {
        var base = currentMinimum
        for minimum in minuteMinimums where base.map({ Self.below(minimum, $0) }) ?? true { base = minimum }
        return base
    }

    /// Takes one delay sample (a packet's `timestampDifference`) and returns the queueing delay
    /// it shows over the base, in microseconds.
    public mutating func delay(sample: UInt32, now: ContinuousClock.Instant) -> UInt32 {
        if let started = minuteStarted, now - started >= .seconds(60) {
            if let currentMinimum { minuteMinimums.append(currentMinimum) }
            if minuteMinimums.count > 2 { minuteMinimums.removeFirst(minuteMinimums.count - 2) }
            currentMinimum = nil
            minuteStarted = now
        }
        if minuteStarted == nil { minuteStarted = now }
        if currentMinimum.map({ Self.below(sample, $0) }) ?? true { currentMinimum = sample }
        recent.append(sample)
        if recent.count > 4 { recent.removeFirst() }
        let base = baseDelay ?? sample
        var current = recent[0]
        for value in recent.dropFirst() where Self.below(value, current) { current = value }
        // A sample below the base (the clock offset moved) counts as no queue.
        queueing = Self.below(current, base) ? 0 : current &- base
        return queueing
    }

    /// `bytes` were acknowledged with `queueing` µs of delay; `windowFull` says the sender had
    /// as much in flight as the window allowed (an idle sender does not grow it).
    public mutating func acked(bytes: Int, queueing: UInt32, windowFull: Bool) {
        guard bytes > 0 else { return }
        if slowStart {
            if queueing > Self.target * 9 / 10 {
                slowStart = false
                slowStartThreshold = window
            } else if windowFull {
                window = min(window + bytes, slowStartThreshold, Self.maximumWindow)
                if window >= slowStartThreshold { slowStart = false }
                return
            }
        }
        let target = Double(Self.target)
        let perRoundTrip: Double
        if queueing <= Self.target {
            // Under the target: grow by up to `gain` bytes a round trip, less the closer it is.
            guard windowFull else { return }
            perRoundTrip = Double(Self.gain) * (target - Double(queueing)) / target
        } else {
            // Over it: shrink in proportion to the window and the overshoot, at most by half a
            // round trip (LEDBAT++'s multiplicative decrease): RFC 6817's linear decrease let a
            // TCP flow beside it wait 11 s for 80 % of a 20 Mbit/s link; this yields in a few.
            let overshoot = Double(queueing) / target - 1
            perRoundTrip = max(Double(Self.gain) - Double(window) * overshoot, -Double(window) / 2)
        }
        let change = perRoundTrip * Double(bytes) / Double(max(window, packetSize))
        window = min(max(window + Int(change.rounded(.towardZero)), packetSize), Self.maximumWindow)
    }

    /// Below this queueing delay a loss is taken for noise on the path, not a full buffer.
    public static let noiseQueueing = target / 4

    /// A packet was lost (three duplicate or selective acks past it; the caller asks once per
    /// window). With a queue of a quarter of the target or more a buffer overflowed: halve, as
    /// TCP and libtorrent do. Without one the loss did not come from a queue we built (a radio
    /// link, a noisy line) and halving for it would keep a lossy long path at a fraction of its
    /// rate (libtorrent's uTP at 0.5 % loss): shrink by a fifth, so the flow still yields at a
    /// shallow buffer, where loss comes before delay.
    public mutating func lost() {
        window = max(queueing < Self.noiseQueueing ? window * 4 / 5 : window / 2, packetSize)
        slowStart = false
        slowStartThreshold = window
    }

    /// Nothing was acked for a whole timeout: one packet, and slow start up to half the old window.
    public mutating func timedOut() {
        slowStartThreshold = max(window / 2, packetSize * 2)
        window = packetSize
        slowStart = true
    }
}
