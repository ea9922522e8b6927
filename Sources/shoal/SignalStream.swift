import Dispatch
import Foundation

/// SIGINT, SIGTERM and SIGHUP (terminal closed) as an async sequence, so the engine can stop cleanly instead of dying.
enum SignalStream {
    static func termination() -> AsyncStream<Int32> {
        AsyncStream { continuation in
            var sources: [any DispatchSourceSignal] = []
            for number in [SIGINT, SIGTERM, SIGHUP] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { continuation.yield(number) }
                source.resume()
                sources.append(source)
            }
            let keep = SignalSources(sources)
            continuation.onTermination = { _ in keep.cancel() }
        }
    }
}

private final class SignalSources: @unchecked Sendable {
    // Only touched at creation and once at termination.
    private let sources: [any DispatchSourceSignal]
    init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }
    func cancel() { for source in sources { source.cancel() } }
}
