import NIOCore

/// How much one read from a peer's socket takes: 64 KiB, or 256 KiB while the connection
/// delivers more than 64 MiB/s.
///
/// Each read wakes the connection's reader task and costs a hop to the torrent, so a single fast
/// peer is cheaper to read in big pieces (about 8% less CPU per GiB on a loopback pair). Many
/// peers together must not hold big buffers: with 256 KiB reads for all, twenty peers took 73 MiB
/// to download 4 GiB instead of 58 MiB (`Benchmarks/memory_swarm.py`) — and each of twenty shares
/// the rate, so none crosses the threshold.
struct ReceiveSizing {
    static let small = AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 64 << 10, maximum: 64 << 10)
    static let large = AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 256 << 10, maximum: 256 << 10)
    static let window: Duration = .milliseconds(250)
    /// Bytes per window above which reads grow (64 MiB/s), and below which they shrink again.
    static let growAbove = 16 << 20
    static let shrinkBelow = 8 << 20

    private var windowStart: ContinuousClock.Instant
    private var bytes = 0
    private(set) var isLarge = false

    init(now: ContinuousClock.Instant) {
        windowStart = now
    }

    /// Counts a read; the allocator to switch to when the rate crossed a threshold.
    mutating func received(_ count: Int, now: ContinuousClock.Instant) -> AdaptiveRecvByteBufferAllocator? {
        bytes += count
        guard now - windowStart >= Self.window else { return nil }
        let inWindow = bytes
        bytes = 0
        windowStart = now
        let wantLarge = isLarge ? inWindow >= Self.shrinkBelow : inWindow > Self.growAbove
        guard wantLarge != isLarge else { return nil }
        isLarge = wantLarge
        return wantLarge ? Self.large : Self.small
    }
}
