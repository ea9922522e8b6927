import Foundation
import ShoalCore
import Synchronization

/// A one-line progress bar on stderr, redrawn at most ten times a second.
final class ProgressBar: Sendable {
    private let total: Int64
    private let label: String
    private let state = Mutex<(lastDraw: ContinuousClock.Instant?, started: ContinuousClock.Instant)>(
        (nil, ContinuousClock.now))

    init(total: Int64, label: String) {
        self.total = max(1, total)
        self.label = label
    }

    func update(_ done: Int64) {
        let now = ContinuousClock.now
        let draw = state.withLock { state -> Duration? in
            if let last = state.lastDraw, now - last < .milliseconds(100), done < total { return nil }
            state.lastDraw = now
            return now - state.started
        }
        guard let elapsed = draw else { return }
        let fraction = Double(done) / Double(total)
        let width = 30
        let filled = Int(fraction * Double(width))
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let line = "\r\(label) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] "
            + ByteCount.fixed(fraction * 100, digits: 1) + "%  " + ByteCount.format(Int64(rate)) + "/s"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
