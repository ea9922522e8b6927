/// SplitMix64: a small, fast generator for choices that need to be spread, not secret (which
/// piece among equally rare ones, which peers a tracker returns). The system generator makes a
/// system call per number, which showed in profiles of the piece picker; this one is seeded from
/// it once. With a fixed seed it also makes a failing property test reproducible.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
