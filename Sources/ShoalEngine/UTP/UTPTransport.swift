import Logging
import NIOCore
import NIOPosix
import ShoalCore

extension TCPTransport {
    /// A raw connection to `address` with `initializer` run on it: a TCP socket, or a uTP
    /// stream when this transport dials over uTP.
    func open<Output: Sendable>(_ address: PeerAddress,
                                _ initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Output>) async throws -> Output {
        guard let utp else {
            return try await PeerConnection.bootstrap(group).connect(host: address.host, port: Int(address.port),
                                                                    channelInitializer: initializer)
        }
        let descriptor = try await utp.connect(to: address)
        return try await UTPSockets.bootstrap(group).withConnectedSocket(descriptor, channelInitializer: initializer)
    }
}

/// Dials uTP first and falls back to TCP, as libtorrent does; takes both. A peer that did not
/// answer uTP is dialled over TCP straight away from then on (bounded, like `PlaintextPeers`),
/// so a redial does not wait out the SYN's three seconds again.
struct PreferredTransport: PeerTransport {
    let tcp: TCPTransport
    let utp: TCPTransport
    /// Whether dials try uTP first (`--utp`); connections peers open over uTP are taken anyway.
    let dialsUTP: Bool
    let tcpOnlyPeers = PlaintextPeers()

    init(tcp: TCPTransport, sockets: UTPSockets, dialsUTP: Bool) {
        self.tcp = tcp
        var utp = tcp
        utp.utp = sockets
        self.utp = utp
        self.dialsUTP = dialsUTP
    }

    func connect(to address: PeerAddress, infoHash: InfoHash, logger: Logger) async throws -> PeerStream {
        if dialsUTP, !tcpOnlyPeers.contains(address) {
            do {
                return try await utp.connect(to: address, infoHash: infoHash, logger: logger)
            } catch {
                tcpOnlyPeers.insert(address)
                logger.debug("uTP dial failed; trying TCP", metadata: ["peer": "\(address)", "reason": "\(error)"])
            }
        }
        return try await tcp.connect(to: address, infoHash: infoHash, logger: logger)
    }

    func adopt(_ channel: any Channel) async throws -> PeerStream { try await tcp.adopt(channel) }
}
