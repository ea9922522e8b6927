import Foundation

/// Raw bytes to a port on 127.0.0.1, for tests that must send what no well-behaved client would:
/// garbage datagrams, broken HTTP, connections dropped half-way.
public enum LoopbackSocket {
    private static func address(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// A TCP socket listening on 127.0.0.1 at a port the kernel picks, for fake servers that
    /// serve it from a thread of their own.
    public static func listener() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var target = address(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &target) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard fd >= 0, bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw StartFailure(description: "cannot listen on 127.0.0.1")
        }
        _ = withUnsafeMutablePointer(to: &target) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, Int(UInt16(bigEndian: target.sin_port)))
    }

    /// One UDP datagram, fire and forget.
    public static func sendDatagram(_ bytes: [UInt8], port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var target = address(port: port)
        _ = withUnsafePointer(to: &target) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    public struct Reply: Sendable {
        public var bytes: [UInt8]
        /// False when the read timed out with the connection still open.
        public var closedByPeer: Bool
    }

    /// Connects over TCP, writes `bytes`, then reads whatever comes back until the peer closes
    /// or `timeout` passes with nothing new. Returns nil when the connection was refused.
    /// `silence`: seconds to wait before reading anything, with a small receive buffer, as a
    /// peer that asks for replies and does not read them.
    ///
    /// The blocking socket calls run on a dispatch thread, never on Swift's cooperative pool:
    /// two tests blocked there would starve the in-process servers they talk to.
    public static func exchange(_ bytes: [UInt8], port: Int, timeout: TimeInterval = 2, silence: TimeInterval = 0) async -> Reply? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: blockingExchange(bytes, port: port, timeout: timeout, silence: silence))
            }
        }
    }

    private static func blockingExchange(_ bytes: [UInt8], port: Int, timeout: TimeInterval, silence: TimeInterval) -> Reply? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if silence > 0 {
            var small: Int32 = 4096
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        }
        var wait = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var target = address(port: port)
        let connected = withUnsafePointer(to: &target) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return nil }
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { break }
            sent += count
        }
        if silence > 0 { Thread.sleep(forTimeInterval: silence) }
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &chunk, chunk.count, 0)
            if count < 0 { return Reply(bytes: reply, closedByPeer: errno != EAGAIN && errno != EWOULDBLOCK) }
            if count == 0 { return Reply(bytes: reply, closedByPeer: true) }
            reply += chunk[0..<count]
        }
    }
}
