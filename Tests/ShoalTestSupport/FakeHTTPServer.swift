import Foundation

/// A misbehaving HTTP server on 127.0.0.1 for tracker-fault tests: each request gets the bytes
/// `respond` returns, or no answer at all (nil) until the server stops.
public final class FakeHTTPServer: @unchecked Sendable {
    public let port: Int
    private let listener: Int32
    private let respond: @Sendable (String) -> [UInt8]?
    private let lock = NSLock()
    private var held: [Int32] = []
    private var stopped = false

    public init(respond: @escaping @Sendable (String) -> [UInt8]?) throws {
        self.respond = respond
        (listener, port) = try LoopbackSocket.listener()
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    public var announceURL: String { "http://127.0.0.1:\(port)/announce" }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }  // closed by stop()
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = recv(client, &buffer, buffer.count, 0)
            let request = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : ""
            if let body = respond(request) {
                let head = "HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
                let reply = Array(head.utf8) + body
                _ = reply.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                close(client)
            } else {
                lock.withLock { held.append(client) }  // silence: the client must time out
            }
        }
    }

    public func stop() {
        lock.withLock {
            guard !stopped else { return }
            stopped = true
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
            for fd in held { close(fd) }
            held.removeAll()
        }
    }

    deinit { stop() }
}
