import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A minimal HTTP/1.1 client: GETs for tracker announces, scrapes and `torrent-add` URLs, POSTs
/// for `shoal attach`'s RPC calls. One request per connection, a bounded body and an overall
/// deadline; `https://` over TLS with the certificate checked (see `TLSTrust`).
public enum HTTPClient {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
        /// The answer's status when it came but its body was over the limit (a web seed that
        /// ignores `Range` answers 200 with the whole file).
        public var status: Int? = nil
    }

    public struct Response: Sendable {
        public let status: Int
        public let body: [UInt8]
        public var headers: [(name: String, value: String)] = []

        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    /// Where a request goes: `http://` or `https://`, host, port and the request target.
    struct Target: Equatable {
        var tls: Bool
        var host: String
        var port: Int
        var target: String
    }

    /// Splits `http(s)://host:port/path?query` without touching the percent-encoding of the query.
    static func split(_ url: String) throws(Failure) -> Target {
        let lower = url.lowercased()
        let tls = lower.hasPrefix("https://")
        guard tls || lower.hasPrefix("http://") else {
            throw Failure(description: "unsupported URL scheme in \(url) (only http:// and https://)")
        }
        let rest = url.dropFirst(tls ? "https://".count : "http://".count)
        let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<slash]
        var target = String(rest[slash...])
        if target.isEmpty || target.first == "?" { target = "/" + target }
        var host = String(authority)
        var port = tls ? 443 : 80
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { guard let p = Int(after.dropFirst()) else { throw Failure(description: "bad port in \(url)") }; port = p }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let p = Int(authority[authority.index(after: colon)...]), p > 0, p < 65536 else {
                throw Failure(description: "bad port in \(url)")
            }
            port = p
        }
        guard !host.isEmpty else { throw Failure(description: "no host in \(url)") }
        return Target(tls: tls, host: host, port: port, target: target)
    }

    public static func fetch(_ url: String, timeout: Duration, maxBody: Int = 4 << 20,
                             group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws(Failure) -> Response {
        try await send(.GET, url, timeout: timeout, maxBody: maxBody, group: group)
    }

    /// Any method, with extra headers and a body. Only a GET is retried on a connection that
    /// closes before answering (a POST might have been acted on).
    public static func send(_ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: [UInt8] = [],
                            timeout: Duration, maxBody: Int = 4 << 20,
                            group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws(Failure) -> Response {
        let destination = try split(url)
        let tls: NIOSSLContext?
        do {
            tls = destination.tls ? try TLSTrust.shared.context() : nil
        } catch {
            throw Failure(description: "cannot set up TLS: \(error)")
        }
        let call = Call(method: method, host: destination.host, port: destination.port, target: destination.target, headers: headers, body: body, tls: tls)
        // One socket at a time, counted in the process's descriptor budget.
        guard DescriptorBudget.shared.takeSocket() else { throw Failure(description: DescriptorBudget.Exhausted().description) }
        defer { DescriptorBudget.shared.giveSocket() }
        do {
            return try await withThrowingTaskGroup(of: Response.self) { tasks in
                tasks.addTask {
                    try await Task.sleep(for: timeout)
                    throw Failure(description: "timed out after \(timeout.components.seconds) s")
                }
                tasks.addTask {
                    // A GET is safe to send twice: a connection that closes under us before any
                    // answer (a busy server, a reset) gets one more try.
                    do {
                        return try await request(call, maxBody: maxBody, group: group, timeout: timeout)
                    } catch let error as ChannelError where (error == .ioOnClosedChannel || error == .eof) && method == .GET {
                        return try await request(call, maxBody: maxBody, group: group, timeout: timeout)
                    }
                }
                defer { tasks.cancelAll() }
                return try await tasks.next()!
            }
        } catch let failure as Failure {
            throw failure
        } catch is CancellationError {
            throw Failure(description: "cancelled")
        } catch {
            throw Failure(description: Self.describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        // "connection refused", not NIO's nest of every address tried.
        if let failed = error as? NIOConnectionError {
            if let first = failed.connectionErrors.first { return describe(first.error) }
            if let dns = failed.dnsAAAAError ?? failed.dnsAError { return "cannot resolve \(failed.host): \(dns)" }
        }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        if let tls = error as? NIOSSLError { return TLSTrust.describe(tls) }
        if let tls = error as? NIOSSLExtraError { return "TLS: \(tls)" }
        if case ChannelError.connectTimeout = error { return "connection timed out" }
        return "\(error)"
    }

    private struct Call: Sendable {
        var method: HTTPMethod
        var host: String
        var port: Int
        var target: String
        var headers: [(String, String)]
        var body: [UInt8]
        /// Set for `https://`.
        var tls: NIOSSLContext?
    }

    private static func request(_ call: Call, maxBody: Int, group: any EventLoopGroup, timeout: Duration) async throws -> Response {
        let (host, port) = (call.host, call.port)
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = call.tls {
                        // An address is checked against the certificate's IP names and sent
                        // without SNI, which may carry only a host name.
                        let name = AddressLiteral.matches(host) ? nil : host
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: name))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: call.method, uri: call.target)
            let hostText = host.contains(":") ? "[\(host)]" : host
            let defaultPort = call.tls == nil ? 80 : 443
            head.headers.add(name: "Host", value: port == defaultPort ? hostText : "\(hostText):\(port)")
            head.headers.add(name: "User-Agent", value: "Shoal/0.1.0")
            head.headers.add(name: "Connection", value: "close")
            head.headers.add(name: "Accept-Encoding", value: "identity")
            if call.method != .GET || !call.body.isEmpty { head.headers.add(name: "Content-Length", value: String(call.body.count)) }
            for (name, value) in call.headers { head.headers.add(name: name, value: value) }
            // Head and end in one write: a fast server may answer and close as soon as it has the
            // head, and a second write would then fail on a channel whose answer is already here.
            var writeError: (any Error)?
            var parts: [HTTPClientRequestPart] = [.head(head)]
            if !call.body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(bytes: call.body)))) }
            parts.append(.end(nil))
            do { try await outbound.write(contentsOf: parts) } catch { writeError = error }
            var status = 0
            var headers: [(name: String, value: String)] = []
            var body: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let response):
                    status = Int(response.status.code)
                    headers = response.headers.map { ($0.name, $0.value) }
                case .body(let buffer):
                    guard body.count + buffer.readableBytes <= maxBody else {
                        throw Failure(description: "response larger than \(maxBody) bytes", status: status)
                    }
                    body += buffer.readableBytesView
                case .end: return Response(status: status, body: body, headers: headers)
                }
            }
            throw writeError ?? Failure(description: "connection closed before the response ended")
        }
    }
}
