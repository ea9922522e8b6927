/// Round-trip time and the retransmission timeout from it (BEP 29, as RFC 6298): smoothed RTT
/// and its variance from packets sent once (Karn's rule: a resent packet's ack is ambiguous),
/// timeout `rtt + 4 × variance`, at least half a second, doubled per timeout in a row.
public struct UTPRoundTrip: Sendable, Equatable {
    public private(set) var smoothed: Duration?
    public private(set) var variance: Duration = .zero
    /// Timeouts since the last ack that moved: each doubles the timeout.
    public private(set) var backoff = 0

    public static let initialTimeout: Duration = .seconds(1)
    public static let minimumTimeout: Duration = .milliseconds(500)
    public static let maximumTimeout: Duration = .seconds(60)

    public init() {}

    public mutating func sample(_ rtt: Duration) {
        let rtt = max(rtt, .zero)
        guard let current = smoothed else {
            smoothed = rtt
            variance = rtt / 2
            return
        }
        let delta = current > rtt ? current - rtt : rtt - current
        variance += (delta - variance) / 4
        smoothed = current + (rtt - current) / 8
    }

    public var timeout: Duration {
        let base = smoothed.map { max($0 + variance * 4, Self.minimumTimeout) } ?? Self.initialTimeout
        return min(base * (1 << min(backoff, 7)), Self.maximumTimeout)
    }

    public mutating func timedOut() { backoff += 1 }
    public mutating func progressed() { backoff = 0 }
}
