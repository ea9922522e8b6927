import NIOCore
import NIOPosix
import ShoalCore

/// The session's TCP listeners for peers: one per `--bind` address, all on one port. An IPv6
/// one takes IPv6 only (IPV6_V6ONLY), so `0.0.0.0` and `::` can share the port number.
enum PeerListener {
    typealias Server = NIOAsyncChannel<any Channel, Never>

    /// Listeners on every address at one port.
    struct Group {
        var servers: [Server]
        var port: UInt16
        /// Addresses that could not be had, worded for the user.
        var problems: [String]
    }

    /// Closes listeners no accept loop runs, and the connections they took meanwhile.
    static func drain(_ servers: [Server]) async {
        for server in servers {
            try? await server.channel.close()
            try? await server.executeThenClose { inbound in
                for try await child in inbound { try? await child.close() }
            }
        }
    }

    /// The first address on `port` (0: any free one; its failure is thrown), the others on the
    /// port it got. One of those that cannot is named, not fatal (an IPv6 address on a machine
    /// without IPv6).
    static func bind(_ addresses: [String], port: Int) async throws -> Group {
        let first = try await bind(addresses[0], port: port)
        let bound = UInt16(first.channel.localAddress?.port ?? port)
        var group = Group(servers: [first], port: bound, problems: [])
        for address in addresses.dropFirst() {
            do {
                group.servers.append(try await bind(address, port: Int(bound)))
            } catch {
                group.problems.append("not listening on \(PeerAddress(host: address, port: bound)): \(error)")
            }
        }
        return group
    }

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
