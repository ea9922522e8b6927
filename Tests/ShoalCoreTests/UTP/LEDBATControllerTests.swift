import ShoalCore
import Testing

/// LEDBAT's base delay over many minutes on an injected clock: the lowest delay of the last two
/// minutes, so a longer route is learned within about two minutes and a shorter one at once,
/// with the clock difference wrapping past zero; and what a loss costs the window.
@Suite("LEDBAT")
struct LEDBATControllerTests {
    @Test func theBaseDelayFollowsTheRouteAcrossMinutes() {
        var ledbat = LEDBATController(packetSize: 1_400)
        let start = ContinuousClock.now
        // The peer's clock runs just below the wrap: samples cross zero once queueing is added.
        let offset: UInt32 = 0xFFFF_0000
        var learned: Duration?
        var queueingAtBase: [UInt32] = []
        // Ten minutes of a sample every tenth of a second; the route lengthens at minute 3.
        for tenth in 0..<6_000 {
            let now = start + .milliseconds(100 * tenth)
            let base: UInt32 = tenth < 1_800 ? 20_000 : 60_000
            let queue = UInt32(tenth % 7) * 5_000
            let measured = ledbat.delay(sample: offset &+ base &+ queue, now: now)
            if tenth == 1_799 { #expect(ledbat.baseDelay == offset &+ 20_000) }
            if tenth >= 1_800, learned == nil, ledbat.baseDelay == offset &+ 60_000 {
                learned = now - (start + .seconds(180))
            }
            // Once learned, four samples in a row at the base itself read as no queue.
            if learned != nil, tenth % 7 == 3 { queueingAtBase.append(measured) }
        }
        let took = learned ?? .seconds(600)
        #expect(took >= .seconds(60) && took <= .seconds(180), "\(took)")
        #expect(!queueingAtBase.isEmpty && queueingAtBase.allSatisfy { $0 <= 15_000 }, "\(queueingAtBase.prefix(5))")
        // A shorter route is taken at once.
        _ = ledbat.delay(sample: offset &+ 10_000, now: start + .seconds(600))
        #expect(ledbat.baseDelay == offset &+ 10_000)
    }

    /// A loss with a queue built (a buffer overflowed) halves the window; one with the queue
    /// under a quarter of the target (noise on the path) takes a fifth; a timeout one packet.
    @Test func lossShrinksTheWindowByWhatTheQueueSays() {
        let start = ContinuousClock.now
        var ledbat = LEDBATController(packetSize: 1_000, initialPackets: 100)
        _ = ledbat.delay(sample: 50_000, now: start)
        #expect(ledbat.delay(sample: 60_000, now: start + .milliseconds(10)) == 0, "the minimum of the recent samples")
        ledbat.lost()
        #expect(ledbat.window == 80_000)
        for step in 1...4 { _ = ledbat.delay(sample: 50_000 + LEDBATController.noiseQueueing, now: start + .milliseconds(10 + step)) }
        #expect(ledbat.queueing == LEDBATController.noiseQueueing)
        ledbat.lost()
        #expect(ledbat.window == 40_000)
        ledbat.timedOut()
        #expect(ledbat.window == 1_000 && ledbat.slowStart)
    }
}
