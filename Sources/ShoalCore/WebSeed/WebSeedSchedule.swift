/// When a torrent may use each of its web seeds (BEP 19): at most `connectionsPerServer`
/// requests at once per server, a failing server left alone for a while that doubles with each
/// failure in a row (or for as long as its `Retry-After` asks), and a server that sent bad data
/// or cannot serve ranges dropped for good. Pure: the clock is an argument.
public struct WebSeedSchedule: Sendable {
    public struct Server: Sendable, Hashable {
        public let url: String
        /// Requests under way.
        public internal(set) var inFlight = 0
        /// Failures since the last answer that carried data.
        public internal(set) var failures = 0
        public internal(set) var retryAt: ContinuousClock.Instant?
        public internal(set) var lastError: String?
        /// Why it is no longer used (nil: in use).
        public internal(set) var droppedFor: String?
        public internal(set) var received: Int64 = 0
    }

    public static let connectionsPerServer = 2
    /// The first wait after a failure; each failure in a row doubles it, up to `longestWait`.
    public static let firstWait: Duration = .seconds(30)
    public static let longestWait: Duration = .seconds(60 * 60)

    public private(set) var servers: [Server]

    /// `urls` as the torrent lists them: those that are not http(s) are kept out (as libtorrent
    /// does), and each once.
    public init(urls: [String]) {
        var seen: Set<String> = []
        servers = urls.filter { url in
            let lower = url.lowercased()
            return (lower.hasPrefix("http://") || lower.hasPrefix("https://")) && seen.insert(url).inserted
        }.map { Server(url: $0) }
    }

    public var isEmpty: Bool { servers.isEmpty }
    public var inFlight: Int { servers.reduce(0) { $0 + $1.inFlight } }

    /// A request slot for each free connection of each server that may be asked now.
    public func due(now: ContinuousClock.Instant) -> [Int] {
        servers.indices.flatMap { index -> [Int] in
            let server = servers[index]
            guard server.droppedFor == nil, server.retryAt.map({ $0 <= now }) ?? true else { return [] }
            return Array(repeating: index, count: max(0, Self.connectionsPerServer - server.inFlight))
        }
    }

    /// The first moment a server now waiting may be asked again (nil: none waits).
    public var nextRetry: ContinuousClock.Instant? {
        servers.compactMap { $0.droppedFor == nil ? $0.retryAt : nil }.min()
    }

    public mutating func opened(_ index: Int) { servers[index].inFlight += 1 }

    public mutating func closed(_ index: Int) { servers[index].inFlight = max(0, servers[index].inFlight - 1) }

    /// An answer carried `bytes`: the server is good again.
    public mutating func received(_ index: Int, bytes: Int) {
        servers[index].received += Int64(bytes)
        servers[index].failures = 0
        servers[index].retryAt = nil
        servers[index].lastError = nil
    }

    /// A request failed: the server waits before it is asked again. Returns the wait.
    @discardableResult
    public mutating func failed(_ index: Int, reason: String, retryAfter: Duration? = nil, now: ContinuousClock.Instant) -> Duration {
        servers[index].failures += 1
        servers[index].lastError = reason
        let doubling = min(servers[index].failures - 1, 7)
        var wait = min(Self.longestWait, Self.firstWait * (1 << doubling))
        if let retryAfter { wait = max(wait, min(retryAfter, Self.longestWait)) }
        let until = now + wait
        // Two requests failing together do not push each other's wait further.
        servers[index].retryAt = max(servers[index].retryAt ?? until, until)
        return wait
    }

    /// No longer used: bad data, or it cannot serve what the torrent needs.
    public mutating func drop(_ index: Int, reason: String) {
        guard servers[index].droppedFor == nil else { return }
        servers[index].droppedFor = reason
    }

    /// What the Peers tab says of a server.
    public func status(_ index: Int, now: ContinuousClock.Instant) -> String { Self.status(of: servers[index], now: now) }

    /// The same for a server as a snapshot kept it: the wait counted from `now`, when shown.
    public static func status(of server: Server, now: ContinuousClock.Instant) -> String {
        if let dropped = server.droppedFor { return "dropped: \(dropped)" }
        if let retryAt = server.retryAt, retryAt > now {
            let seconds = Int(((retryAt - now) / .seconds(1)).rounded(.up))
            return "retry in \(seconds) s" + (server.lastError.map { ": \($0)" } ?? "")
        }
        return server.inFlight > 0 ? "downloading" : "idle"
    }
}
