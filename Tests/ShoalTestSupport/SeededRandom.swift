import ShoalCore

/// The tests' name for a generator built from a seed, so a failing property test can be replayed.
public typealias SeededRandom = SplitMix64
