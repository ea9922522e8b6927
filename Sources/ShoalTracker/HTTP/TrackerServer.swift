import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import ShoalCore
import Synchronization

/// `shoal tracker`: the HTTP front end (`GET /announce`, `GET /scrape`, `GET /stats`) and,
/// optionally, the UDP one (BEP 15), sharing one `TrackerCore`. Usable embedded (tests, the demo)
/// or alone. Malformed requests get a bencoded `failure reason`, never a crash.
public final class TrackerServer: Sendable {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    typealias ServerChannel = NIOAsyncChannel<any Channel, Never>

    public let core: TrackerCore
    private let server: ServerChannel
    /// Whether `run()` took the listener; if not, `shutdown()` must drain it (see there).
    private let started = Atomic<Bool>(false)
    private let udp: UDPTrackerServer?
    public let httpPort: Int
    public let bindAddress: String
    /// How long a client has for each request before its connection is closed.
    let requestTimeout: Duration
    /// Connections served at once; more are closed as they come, so a flood cannot take the
    /// process's last file descriptors.
    let maxConnections: Int
    private let connections = Atomic<Int>(0)

    /// `udpPort` nil: no UDP front end; 0: any free port.
    /// `core`: share another server's swarms (one tracker listening on several addresses).
    public static func start(bind: String = "127.0.0.1", httpPort: Int = 6969, udpPort: Int? = nil, interval: Int = 1800,
                             whitelist: Set<InfoHash>? = nil, requestTimeout: Duration = .seconds(15),
                             maxConnections: Int = 512, core shared: TrackerCore? = nil) async throws -> TrackerServer {
        let core = shared ?? TrackerCore(interval: interval, whitelist: whitelist)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Connections are wrapped for async use only once a task owns them (see `serve`);
            // NIO traps on an async channel dropped unused, as when one races a closing listener.
            .childChannelOption(.autoRead, value: false)
            // Answers are small: without this, Nagle and the client's delayed ACK add ~40 ms each.
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: bind, port: httpPort) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return channel
                }
            }
        var udp: UDPTrackerServer?
        do {
            if let udpPort { udp = try await UDPTrackerServer.start(bind: bind, port: udpPort, core: core) }
        } catch {
            try? await server.channel.close()
            throw error
        }
        return TrackerServer(server: server, udp: udp, core: core, bind: bind, port: server.channel.localAddress?.port ?? httpPort,
                             requestTimeout: requestTimeout, maxConnections: maxConnections)
    }

    private init(server: ServerChannel, udp: UDPTrackerServer?, core: TrackerCore, bind: String, port: Int, requestTimeout: Duration,
                 maxConnections: Int) {
        self.maxConnections = max(1, maxConnections)
        self.requestTimeout = requestTimeout
        self.server = server
        self.udp = udp
        self.core = core
        self.bindAddress = bind
        self.httpPort = port
    }

    private var host: String { bindAddress.contains(":") ? "[\(bindAddress)]" : bindAddress }
    public var announceURL: String { "http://\(host):\(httpPort)/announce" }
    public var udpPort: Int? { udp?.port }
    public var udpAnnounceURL: String? { udp.map { "udp://\(host):\($0.port)/announce" } }

    /// Serves until `shutdown()`.
    public func run() async {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        await withDiscardingTaskGroup { group in
            if let udp { group.addTask { await udp.run() } }
            try? await server.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { connections in
                    for try await connection in inbound {
                        connections.addTask { await self.serve(connection) }
                    }
                }
            }
        }
    }

    public func shutdown() async {
        await udp?.shutdown()
        try? await server.channel.close()
        // Connections accepted by a listener nobody ran are still queued: close them.
        if !started.exchange(true, ordering: .relaxed) {
            try? await server.executeThenClose { inbound in
                for try await connection in inbound { try? await connection.close() }
            }
        }
    }

    /// Answers one UDP packet without a socket (for tests).
    public func respondUDP(to bytes: [UInt8], from remote: SocketAddress) -> [UInt8]? {
        udp?.respond(to: bytes, from: remote)
    }

    private func serve(_ raw: any Channel) async {
        guard connections.add(1, ordering: .relaxed).newValue <= maxConnections else {
            connections.subtract(1, ordering: .relaxed)
            try? await raw.close()
            return
        }
        defer { connections.subtract(1, ordering: .relaxed) }
        let adopted = try? await raw.eventLoop.submit {
            let wrapped = try Connection(wrappingChannelSynchronously: raw)
            try raw.syncOptions?.setOption(.autoRead, value: true)
            return wrapped
        }.get()
        guard let connection = adopted else {
            try? await raw.close()
            return
        }
        let remote = connection.channel.remoteAddress?.ipAddress ?? "127.0.0.1"
        // A client gets `requestTimeout` for each request: a slow or silent one (slowloris) is
        // closed instead of holding a connection forever. A timer on the event loop, not a
        // sleeping task: cancelling it frees it at once, which matters at 10,000 connections/s.
        let channel = connection.channel
        let timeout = TimeAmount.nanoseconds(Int64(requestTimeout / .nanoseconds(1)))
        let arm = { channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) } }
        var timer = arm()
        try? await connection.executeThenClose { inbound, outbound in
            var request: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case .head(let head): request = head
                case .body: continue
                case .end:
                    timer.cancel()
                    let (status, type, body) = respond(to: request?.uri ?? "/", remoteHost: remote)
                    let keepAlive = request?.isKeepAlive ?? false
                    var head = HTTPResponseHead(version: .http1_1, status: status)
                    head.headers.add(name: "Content-Type", value: type)
                    head.headers.add(name: "Content-Length", value: String(body.count))
                    head.headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
                    // One write, one flush, one segment.
                    try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(ByteBuffer(bytes: body))), .end(nil)])
                    if !keepAlive { return }
                    timer = arm()
                    request = nil
                }
            }
        }
        timer.cancel()
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
                let reply = try core.announce(announce)
                return (.ok, plain, TrackerResponder.announceBody(reply, compact: announce.compact))
            } catch {
                return (.ok, plain, TrackerResponder.failureBody(error.description))
            }
        case "/scrape":
            guard let query = try? QueryString(queryText) else {
                return (.ok, plain, TrackerResponder.failureBody("bad percent-encoding"))
            }
            let hashes = query.all("info_hash").compactMap { InfoHash(bytes: $0) }
            return (.ok, plain, TrackerResponder.scrapeBody(core.scrape(hashes)))
        case "/stats":
            let query = try? QueryString(queryText)
            return query?.text("format") == "json"
                ? (.ok, "application/json", Array(TrackerStatsReport.json(core, clients: query?.text("peers") == "1").utf8))
                : (.ok, plain, Array(TrackerStatsReport.text(core).utf8))
        default:
            return (.notFound, plain, Array("not found: use /announce, /scrape or /stats\n".utf8))
        }
    }
}
