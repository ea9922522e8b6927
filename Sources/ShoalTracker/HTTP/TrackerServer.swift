import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import ShoalCore
import Synchronization

/// `shoal tracker`'s HTTP front end: `GET /announce`, `GET /scrape`, `GET /stats`.
/// Usable embedded (tests, the demo) or alone. Malformed requests get a bencoded
/// `failure reason`, never a crash.
public final class TrackerServer: Sendable {
    typealias ServerChannel = NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>

    struct State {
        var registry: TrackerRegistry
        var rng = SystemRandomNumberGenerator()
        let started = ContinuousClock.now
    }

    private let state: Mutex<State>
    private let server: ServerChannel
    public let httpPort: Int
    public let bindAddress: String

    public static func start(bind: String = "127.0.0.1", httpPort: Int = 6969, interval: Int = 1800,
                             whitelist: Set<InfoHash>? = nil) async throws -> TrackerServer {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: bind, port: httpPort) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        return TrackerServer(server: server, registry: TrackerRegistry(interval: interval, whitelist: whitelist),
                             bind: bind, port: server.channel.localAddress?.port ?? httpPort)
    }

    private init(server: ServerChannel, registry: TrackerRegistry, bind: String, port: Int) {
        self.server = server
        self.state = Mutex(State(registry: registry))
        self.bindAddress = bind
        self.httpPort = port
    }

    public var announceURL: String { "http://\(bindAddress.contains(":") ? "[\(bindAddress)]" : bindAddress):\(httpPort)/announce" }

    /// Serves until `shutdown()`.
    public func run() async {
        try? await server.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in inbound {
                    group.addTask { await self.serve(connection) }
                }
            }
        }
    }

    public func shutdown() async {
        try? await server.channel.close()
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        let remote = connection.channel.remoteAddress?.ipAddress ?? "127.0.0.1"
        try? await connection.executeThenClose { inbound, outbound in
            var uri: String?
            for try await part in inbound {
                switch part {
                case .head(let head): uri = head.uri
                case .body: continue
                case .end:
                    let (status, type, body) = respond(to: uri ?? "/", remoteHost: remote)
                    var head = HTTPResponseHead(version: .http1_1, status: status)
                    head.headers.add(name: "Content-Type", value: type)
                    head.headers.add(name: "Content-Length", value: String(body.count))
                    head.headers.add(name: "Connection", value: "close")
                    try await outbound.write(.head(head))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
                    try await outbound.write(.end(nil))
                    return
                }
            }
        }
    }

    /// Routes one request. Public so tests can drive it without a socket.
    public func respond(to uri: String, remoteHost: String) -> (HTTPResponseStatus, String, [UInt8]) {
        let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
        let queryText = uri.contains("?") ? String(uri[uri.index(after: uri.firstIndex(of: "?")!)...]) : ""
        let plain = "text/plain; charset=utf-8"
        switch path {
        case "/announce":
            do {
                let query = try QueryString(queryText)
                let announce = try TrackerAnnounce(query: query, remoteHost: remoteHost)
                let reply = try state.withLock { state throws(TrackerFailure) in
                    try state.registry.announce(announce, now: .now, using: &state.rng)
                }
                return (.ok, plain, TrackerResponder.announceBody(reply, compact: announce.compact))
            } catch {
                return (.ok, plain, TrackerResponder.failureBody(error.description))
            }
        case "/scrape":
            guard let query = try? QueryString(queryText) else {
                return (.ok, plain, TrackerResponder.failureBody("bad percent-encoding"))
            }
            let hashes = query.all("info_hash").compactMap { InfoHash(bytes: $0) }
            let counts = state.withLock { state in
                (hashes.isEmpty ? state.registry.hashes : hashes).map { ($0, state.registry.counts(for: $0)) }
            }
            return (.ok, plain, TrackerResponder.scrapeBody(counts))
        case "/stats":
            let json = (try? QueryString(queryText))?.text("format") == "json"
            let (torrents, peers, announces, uptime) = state.withLock { state in
                (state.registry.torrentCount, state.registry.peerCount, state.registry.announceCount,
                 ContinuousClock.now - state.started)
            }
            let seconds = max(1, Double(uptime.components.seconds))
            let rate = Double(announces) / seconds
            if json {
                let text = "{\"torrents\":\(torrents),\"peers\":\(peers),\"announces\":\(announces),\"announces_per_second\":\(ByteCount.fixed(rate, digits: 3))}\n"
                return (.ok, "application/json", Array(text.utf8))
            }
            let text = "torrents: \(torrents)\npeers: \(peers)\nannounces: \(announces)\nannounces per second: \(ByteCount.fixed(rate, digits: 3))\n"
            return (.ok, plain, Array(text.utf8))
        default:
            return (.notFound, plain, Array("not found: use /announce, /scrape or /stats\n".utf8))
        }
    }
}
