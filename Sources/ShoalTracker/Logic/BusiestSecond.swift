/// The most requests any one second has seen since the tracker started, counted second by
/// second as they come: what a client's pacing (or its storm) looks like from the tracker.
struct BusiestSecond: Sendable {
    private var second = -1
    private var inSecond = 0
    private(set) var peak = 0

    /// Counts one request at `elapsed` since the start.
    mutating func note(elapsed: Duration) {
        let now = Int(elapsed.components.seconds)
        if now != second {
            second = now
            inSecond = 0
        }
        inSecond += 1
        peak = max(peak, inSecond)
    }
}
