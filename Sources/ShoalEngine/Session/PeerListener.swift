import NIOCore
import NIOPosix

/// The session's TCP listeners for peers: one per `--bind` address, all on one port. An IPv6
/// one takes IPv6 only (IPV6_V6ONLY), so `0.0.0.0` and `::` can share the port number.
enum PeerListener {
    typealias Server = NIOAsyncChannel<any Channel, Never>

    static func bind(_ host: String, port: Int) async throws -> Server {
        var bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Accepted sockets are wrapped for async use only once a task owns them
            // (see `handleIncoming`); until then nothing is read.
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.recvAllocator, value: PeerConnection.receiveAllocator)
        if host.contains(":") {
            bootstrap = bootstrap.serverChannelOption(ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 1)
        }
        return try await bootstrap.bind(host: host, port: port) { $0.eventLoop.makeSucceededFuture($0) }
    }
}
