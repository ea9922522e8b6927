/// The most requests any one second has seen, counted second by second as they come: what a
/// client's pacing (or its storm) looks like, from the tracker (`shoal tracker`'s /stats) or
/// from the client (`TrackerGate`).
public struct BusiestSecond: Sendable {
    private var second = -1
    private var inSecond = 0
    public private(set) var peak = 0

    public init() {}

    /// Counts one request at `elapsed` since the start.
    public mutating func note(elapsed: Duration) {
        let now = Int(elapsed.components.seconds)
        if now != second {
            second = now
            inSecond = 0
        }
        inSecond += 1
        peak = max(peak, inSecond)
    }
}
