/// What a web seed's answer to one ranged GET means (BEP 19). Pure: the status, headers and
/// body in, a verdict out.
public enum WebSeedAnswer: Sendable, Equatable {
    /// The part's bytes.
    case data([UInt8])
    /// Ask again at this URL (a redirect).
    case redirect(String)
    /// A failure worth trying again later, after `retryAfter` if the server named a time.
    case retry(String, retryAfter: Duration?)
    /// The server cannot give this torrent what it needs: stop using it.
    case drop(String)

    /// Redirects followed for one request before it counts as a failure.
    public static let maxRedirects = 3

    public static func judge(status: Int, headers: [(name: String, value: String)], body: [UInt8],
                             part: WebSeedLayout.Part, url: String) -> WebSeedAnswer {
        func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name }?.value }
        switch status {
        case 206:
            if let range = header("content-range") {
                guard let first = contentRangeStart(range), first == part.fileOffset else {
                    return .retry("the server sent \(range), not bytes \(part.fileOffset)-\(part.fileOffset + Int64(part.length) - 1)",
                                  retryAfter: nil)
                }
            }
            guard body.count == part.length else {
                return .retry("the server sent \(body.count) bytes of the \(part.length) asked for", retryAfter: nil)
            }
            return .data(body)
        case 200:
            // No `Range` support: the whole file, from which the part is cut.
            if body.count == Int(part.fileLength) {
                let start = Int(part.fileOffset)
                return .data(Array(body[start..<start + part.length]))
            }
            return .drop("it answered a range request with \(body.count) bytes of a \(part.fileLength)-byte file")
        case 301, 302, 303, 307, 308:
            guard let location = header("location"), let target = resolve(location, against: url) else {
                return .retry("HTTP \(status) without a usable Location", retryAfter: nil)
            }
            return .redirect(target)
        case 429, 503:
            return .retry("HTTP \(status)", retryAfter: header("retry-after").flatMap { Int($0.trimmingSpaces) }.map { .seconds($0) })
        case 416:
            return .drop("HTTP 416: the file on the server is shorter than the torrent's")
        default:
            return .retry("HTTP \(status)", retryAfter: nil)
        }
    }

    /// The first byte of `bytes a-b/total`.
    static func contentRangeStart(_ value: String) -> Int64? {
        let text = value.trimmingSpaces
        guard text.lowercased().hasPrefix("bytes") else { return nil }
        let rest = text.dropFirst(5).drop { $0 == " " || $0 == "=" }
        guard let dash = rest.firstIndex(of: "-") else { return nil }
        return Int64(rest[..<dash])
    }

    /// A Location made absolute: a full http(s) URL as it is, a path on the same server.
    static func resolve(_ location: String, against url: String) -> String? {
        let lower = location.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") { return location }
        guard location.hasPrefix("/"), let scheme = url.range(of: "://") else { return nil }
        let authorityEnd = url[scheme.upperBound...].firstIndex(of: "/") ?? url.endIndex
        return String(url[..<authorityEnd]) + location
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
