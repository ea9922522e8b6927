import NIOHTTP1
import ShoalCore

/// The HTTP side of a web seed (BEP 19): one ranged GET per part, redirects followed, each
/// answer judged by `WebSeedAnswer`.
enum WebSeedFetch {
    enum Outcome: Sendable {
        /// The parts' bytes, in order.
        case bytes([UInt8])
        /// Why it failed: `.retry` or `.drop` (never `.data` or `.redirect`).
        case failed(WebSeedAnswer)
        case cancelled
    }

    /// A server that ignores `Range` sends whole files: taken up to this size (and the part cut
    /// out), refused over it.
    static let wholeFileLimit = 16 << 20

    /// Fetches `parts` in order, each after the rate limiters let its bytes through.
    static func fetch(_ parts: [WebSeedLayout.Part], limiters: [RateLimiter]) async -> Outcome {
        var out: [UInt8] = []
        out.reserveCapacity(parts.reduce(0) { $0 + $1.length })
        for part in parts {
            guard var url = part.url else {
                out += repeatElement(0, count: part.length)  // padding: zeros no server holds
                continue
            }
            await RateLimiter.pass(part.length, through: limiters)
            var redirects = 0
            while true {
                if Task.isCancelled { return .cancelled }
                let answer = await get(part, at: url)
                switch answer {
                case .data(let bytes):
                    out += bytes
                case .redirect(let target) where redirects < WebSeedAnswer.maxRedirects:
                    redirects += 1
                    url = target
                    continue
                case .redirect:
                    return .failed(.retry("more than \(WebSeedAnswer.maxRedirects) redirects", retryAfter: nil))
                case .retry, .drop:
                    return Task.isCancelled ? .cancelled : .failed(answer)
                }
                break
            }
        }
        return .bytes(out)
    }

    private static func get(_ part: WebSeedLayout.Part, at url: String) async -> WebSeedAnswer {
        let last = part.fileOffset + Int64(part.length) - 1
        let maxBody = part.fileLength <= Int64(wholeFileLimit) ? max(part.length, Int(part.fileLength)) : part.length
        // Long enough for a slow server to send a few MiB, short enough that a stalled one
        // gives its blocks back to the swarm.
        let timeout = Duration.seconds(20 + part.length / (64 << 10))
        do {
            let response = try await HTTPClient.send(.GET, url, headers: [("Range", "bytes=\(part.fileOffset)-\(last)")],
                                                     timeout: timeout, maxBody: maxBody)
            return WebSeedAnswer.judge(status: response.status, headers: response.headers, body: response.body, part: part, url: url)
        } catch {
            if error.status == 200 { return .drop("it ignores range requests, and the file is over \(wholeFileLimit >> 20) MiB") }
            return .retry(error.description, retryAfter: nil)
        }
    }
}
