import NIOCore
import NIOPosix
import ShoalCore

/// How a peer connection's bytes travel, below the BitTorrent handshake. Everything above it —
/// the handshakes, `PeerLink`, `BlockSender`, the reader, the metadata fetcher — works on the
/// channel a transport returns, which carries the peer protocol in the clear.
///
/// Plain TCP is the transport today. Protocol encryption (MSE) fits as one that negotiates on
/// the raw socket first (telling an incoming plaintext handshake from an encrypted one by its
/// first bytes) and then adds its cipher as channel handlers under the async wrapper; uTP as one
/// whose channel is a uTP stream. Neither needs a change above this seam.
protocol PeerTransport: Sendable {
    /// Connects to `address`.
    func connect(to address: PeerAddress) async throws -> PeerConnection.Channel
    /// Takes a connection a listener accepted (opened with autoRead off) and starts reading.
    func adopt(_ channel: any Channel) async throws -> PeerConnection.Channel
}

/// Plain TCP: the fast path, as it always was (one event loop per socket, writes straight to it).
struct TCPTransport: PeerTransport {
    let group: any EventLoopGroup

    static let shared = TCPTransport(group: MultiThreadedEventLoopGroup.singleton)

    func connect(to address: PeerAddress) async throws -> PeerConnection.Channel {
        try await PeerConnection.bootstrap(group).connect(host: address.host, port: Int(address.port)) { PeerConnection.wrap($0) }
    }

    func adopt(_ channel: any Channel) async throws -> PeerConnection.Channel {
        try await channel.eventLoop.submit {
            let wrapped = try PeerConnection.Channel(wrappingChannelSynchronously: channel, configuration: PeerConnection.configuration)
            try channel.syncOptions?.setOption(.autoRead, value: true)
            return wrapped
        }.get()
    }
}
