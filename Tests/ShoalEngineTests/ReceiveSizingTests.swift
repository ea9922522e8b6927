import Testing
@testable import ShoalEngine

@Suite("Receive sizing")
struct ReceiveSizingTests {
    @Test func aFastConnectionReadsBigAndShrinksWhenItSlows() {
        let start = ContinuousClock.now
        var sizing = ReceiveSizing(now: start)
        func after(_ milliseconds: Int, bytes: Int) -> Bool? {
            sizing.received(bytes, now: start + .milliseconds(milliseconds)).map { _ in sizing.isLarge }
        }
        #expect(after(100, bytes: 20 << 20) == nil, "decided once a window has passed")
        #expect(after(250, bytes: 0) == true, "20 MiB in 250 ms: big reads")
        #expect(after(400, bytes: 10 << 20) == nil)
        #expect(after(500, bytes: 0) == nil, "10 MiB in the window: stays big (hysteresis)")
        #expect(after(750, bytes: 4 << 20) == false, "4 MiB: back to small reads")
        #expect(after(1_000, bytes: 12 << 20) == nil, "12 MiB is under the 16 MiB to grow again")
    }
}
