import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The HTTP front of `TransmissionRPC`: `POST /transmission/rpc`, with `RPCAccess` deciding who
/// gets in. Bounded everywhere a hostile client could push: the body size, connections at once,
/// and the time each request may take.
public final class RPCServer: Sendable {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    typealias ServerChannel = NIOAsyncChannel<any Channel, Never>

    public struct Limits: Sendable {
        /// A request body larger than this is refused (413) before it is read: a .torrent of
        /// 10 MiB is 14 MiB as base64.
        public var maxBody = 24 * 1024 * 1024
        /// Connections at once; one more is answered 503 and closed.
        public var maxConnections = 128
        public var requestTimeout: Duration = .seconds(30)
        public init() {}
    }

    public static let path = "/transmission/rpc"

    let rpc: TransmissionRPC
    let access: RPCAccess
    let limits: Limits
    let logger: Logger
    private let servers: [ServerChannel]
    private let started = Atomic<Bool>(false)
    private let connections = Atomic<Int>(0)
    /// Connections open now, closed by `shutdown()`; nil once it has run.
    private let open = Mutex<[ObjectIdentifier: any Channel]?>([:])
    public let port: Int
    public let bindAddresses: [String]

    public enum StartError: Error, CustomStringConvertible {
        case needsAuthentication(String)
        case cannotListen(String, String)
        public var description: String {
            switch self {
            case .needsAuthentication(let address):
                return "refusing to serve the RPC on \(address) without a password: set rpc_username and rpc_password (see shoal config --hash-password), or bind 127.0.0.1"
            case .cannotListen(let address, let why): return "cannot listen for RPC on \(address): \(why)"
            }
        }
    }

    /// Binds every address on one port. A non-loopback address needs credentials in `access`.
    public static func start(rpc: TransmissionRPC, access: RPCAccess, bind: [String], port: Int, limits: Limits = Limits(),
                             logger: Logger) async throws -> RPCServer {
        for address in bind where access.credentials == nil && !isLoopback(address) {
            throw StartError.needsAuthentication(address)
        }
        var servers: [ServerChannel] = []
        var bound = port
        for address in bind {
            do {
                let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .serverChannelOption(.backlog, value: 256)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(.autoRead, value: false)
                    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                    .bind(host: address, port: bound) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                            return channel
                        }
                    }
                bound = server.channel.localAddress?.port ?? bound
                servers.append(server)
            } catch {
                for server in servers { try? await server.channel.close() }
                throw StartError.cannotListen("\(address):\(bound)", "\(error)")
            }
        }
        return RPCServer(rpc: rpc, access: access, limits: limits, logger: logger, servers: servers, port: bound, bind: bind)
    }

    private init(rpc: TransmissionRPC, access: RPCAccess, limits: Limits, logger: Logger, servers: [ServerChannel], port: Int,
                 bind: [String]) {
        self.rpc = rpc
        self.access = access
        self.limits = limits
        self.logger = logger
        self.servers = servers
        self.port = port
        self.bindAddresses = bind
    }

    static func isLoopback(_ address: String) -> Bool {
        address == "::1" || address.hasPrefix("127.") || address == "localhost"
    }

    /// Serves until `shutdown()`.
    public func run() async {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        await withDiscardingTaskGroup { group in
            for server in servers {
                group.addTask {
                    try? await server.executeThenClose { inbound in
                        try await withThrowingDiscardingTaskGroup { connections in
                            for try await connection in inbound {
                                connections.addTask { await self.serve(connection) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Connections open now (for tests).
    var openConnections: Int { open.withLock { $0?.count ?? 0 } }

    /// Closes the listeners and every open connection: a remote waiting on a keep-alive
    /// connection for an answer the stopping session would give late (its saving and closing
    /// under a busy disk) is cut off, and its next try is refused.
    public func shutdown() async {
        for server in servers { try? await server.channel.close() }
        let connected = open.withLock { open in
            defer { open = nil }
            return open.map { Array($0.values) } ?? []
        }
        for channel in connected { try? await channel.close() }
        if !started.exchange(true, ordering: .relaxed) {
            for server in servers {
                try? await server.executeThenClose { inbound in
                    for try await connection in inbound { try? await connection.close() }
                }
            }
        }
    }

    private func serve(_ raw: any Channel) async {
        let adopted = try? await raw.eventLoop.submit {
            let wrapped = try Connection(wrappingChannelSynchronously: raw)
            try raw.syncOptions?.setOption(.autoRead, value: true)
            return wrapped
        }.get()
        let key = ObjectIdentifier(raw)
        let tracked = open.withLock { open -> Bool in
            guard open != nil else { return false }
            open?[key] = raw
            return true
        }
        defer { open.withLock { _ = $0?.removeValue(forKey: key) } }
        guard let connection = adopted, tracked else {
            try? await raw.close()
            return
        }
        let crowded = connections.add(1, ordering: .relaxed).newValue > limits.maxConnections
        defer { connections.subtract(1, ordering: .relaxed) }
        let channel = connection.channel
        let timeout = TimeAmount.nanoseconds(Int64(limits.requestTimeout / .nanoseconds(1)))
        let arm = { channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) } }
        var timer = arm()
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            var refused: Reply?
            for try await part in inbound {
                switch part {
                case .head(let request):
                    head = request
                    body.removeAll(keepingCapacity: false)
                    if crowded {
                        refused = Reply(.serviceUnavailable, "too many RPC connections at once (\(limits.maxConnections)); try again\n")
                        logger.warning("rpc: connection refused, too many at once", metadata: ["limit": "\(limits.maxConnections)"])
                    } else if let length = request.headers.first(name: "content-length").flatMap(Int.init), length > limits.maxBody {
                        refused = Reply(.payloadTooLarge, "request body of \(length) bytes is over the limit of \(limits.maxBody)\n")
                    }
                    if let refused {
                        // Answered at once, without reading a body nobody will use.
                        try await outbound.write(contentsOf: refused.parts(keepAlive: false))
                        return
                    }
                case .body(var buffer):
                    guard body.count + buffer.readableBytes <= limits.maxBody else {
                        let reply = Reply(.payloadTooLarge, "request body is over the limit of \(limits.maxBody) bytes\n")
                        try await outbound.write(contentsOf: reply.parts(keepAlive: false))
                        return
                    }
                    body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
                case .end:
                    timer.cancel()
                    guard let request = head else { return }
                    let reply = await respond(request, body: body)
                    try await outbound.write(contentsOf: reply.parts(keepAlive: request.isKeepAlive))
                    if !request.isKeepAlive { return }
                    timer = arm()
                    head = nil
                    body = []
                }
            }
        }
        timer.cancel()
    }

    struct Reply {
        var status: HTTPResponseStatus
        var headers: [(String, String)] = []
        var type = "text/plain; charset=utf-8"
        var body: [UInt8]

        init(_ status: HTTPResponseStatus, _ text: String) {
            self.status = status
            self.body = Array(text.utf8)
        }

        init(_ status: HTTPResponseStatus, json: [UInt8]) {
            self.status = status
            self.type = "application/json; charset=UTF-8"
            self.body = json
        }

        func parts(keepAlive: Bool) -> [HTTPServerResponsePart] {
            var head = HTTPResponseHead(version: .http1_1, status: status)
            head.headers.add(name: "Content-Type", value: type)
            head.headers.add(name: "Content-Length", value: String(body.count))
            head.headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
            head.headers.add(name: "Server", value: "Shoal")
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            return [.head(head), .body(.byteBuffer(ByteBuffer(bytes: body))), .end(nil)]
        }
    }

    /// One request: access first, then the method.
    func respond(_ request: HTTPRequestHead, body: [UInt8]) async -> Reply {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
        guard path == Self.path || path == Self.path + "/" else {
            return Reply(.notFound, "not found: Shoal answers Transmission's RPC at \(Self.path)\n")
        }
        switch access.verdict(header: { request.headers.first(name: $0) }) {
        case .allowed:
            guard request.method == .POST else { return Reply(.methodNotAllowed, "use POST for \(Self.path)\n") }
            let reply = await rpc.handle(body)
            return Reply(HTTPResponseStatus(statusCode: reply.status), json: reply.body)
        case .unauthorized:
            logger.notice("rpc: refused, wrong or missing credentials", metadata: ["client": "\(request.headers.first(name: "user-agent") ?? "?")"])
            var reply = Reply(.unauthorized, "401: Unauthorized User\n")
            reply.headers = [("WWW-Authenticate", "Basic realm=\"Shoal\"")]
            return reply
        case .misdirected(let host):
            logger.warning("rpc: refused, Host header names none of ours (DNS rebinding?)", metadata: ["host": "\(host)"])
            return Reply(HTTPResponseStatus(statusCode: 421, reasonPhrase: "Misdirected Request"),
                         "421: Misdirected Request: Shoal does not answer to \"\(host)\". Use an address, localhost, or set rpc_host_whitelist.\n")
        case .needsSessionID:
            var reply = Reply(.conflict, "409: Conflict: send the X-Transmission-Session-Id header with this value: \(access.sessionID)\n")
            reply.headers = [("X-Transmission-Session-Id", access.sessionID)]
            return reply
        }
    }
}
