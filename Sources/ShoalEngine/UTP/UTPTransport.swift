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

/// Dials uTP first and TCP a moment later, keeping whichever connects first (as happy eyeballs
/// does for IPv6 and IPv4); takes both. libtorrent waits out the uTP SYN's three seconds before
/// TCP, which costs every peer without uTP three seconds of a dial slot; here it costs the head
/// start. A peer reached over TCP is dialled over TCP straight away from then on (bounded, like
/// `PlaintextPeers`). TCP refused does not end the uTP try: a peer may take uTP only (libtorrent
/// with TCP off answered after the head start on a loaded machine).
struct PreferredTransport: PeerTransport {
    let tcp: TCPTransport
    let utp: TCPTransport
    /// Whether dials try uTP first (`--utp`); connections peers open over uTP are taken anyway.
    let dialsUTP: Bool
    let tcpOnlyPeers = PlaintextPeers()
    /// How long uTP has alone (happy eyeballs' 250 ms, RFC 8305): a round trip on most paths,
    /// so a peer that speaks uTP is reached over it.
    static let tcpHeadStart: Duration = .milliseconds(250)

    init(tcp: TCPTransport, sockets: UTPSockets, dialsUTP: Bool) {
        self.tcp = tcp
        var utp = tcp
        utp.utp = sockets
        self.utp = utp
        self.dialsUTP = dialsUTP
    }

    private enum Attempt: Sendable {
        case utp(Result<PeerStream, any Error>)
        case tcp(Result<PeerStream, any Error>)
    }

    func connect(to address: PeerAddress, infoHash: InfoHash, logger: Logger) async throws -> PeerStream {
        guard dialsUTP, !tcpOnlyPeers.contains(address) else { return try await tcp.connect(to: address, infoHash: infoHash, logger: logger) }
        let (utp, tcp) = (self.utp, self.tcp)
        let answered = UTPAnswer()
        return try await withThrowingTaskGroup(of: Attempt.self) { group in
            group.addTask {
                await UTPSockets.$answered.withValue(answered) {
                    .utp(await Self.result { try await utp.connect(to: address, infoHash: infoHash, logger: logger) })
                }
            }
            group.addTask {
                do { try await Task.sleep(for: Self.tcpHeadStart) } catch { return .tcp(.failure(error)) }
                // The peer answered over uTP: the encrypted and BitTorrent handshakes on it may
                // take longer than the head start (a loaded machine), but TCP would gain nothing.
                guard !answered.isRaised else { return .tcp(.failure(CancellationError())) }
                return .tcp(await Self.result { try await tcp.connect(to: address, infoHash: infoHash, logger: logger) })
            }
            var winner: PeerStream?
            var tcpError: (any Error)?
            var utpError: (any Error)?
            for try await attempt in group {
                switch attempt {
                case .utp(.success(let stream)), .tcp(.success(let stream)):
                    guard winner == nil else {
                        // Both connected: the slower one goes (an async channel must be run before it is dropped).
                        try? await stream.channel.executeThenClose { _, _ in }
                        continue
                    }
                    winner = stream
                    group.cancelAll()
                case .utp(.failure(let error)):
                    guard winner == nil else { continue }
                    utpError = error
                    logger.debug("uTP dial failed", metadata: ["peer": "\(address)", "reason": "\(error)"])
                case .tcp(.failure(let error)):
                    guard winner == nil, !(error is CancellationError) else { continue }
                    tcpError = error
                }
            }
            // TCP's failure says most (a refusal is counted as "could not connect"); else uTP's.
            guard let winner else { throw tcpError ?? utpError ?? PeerConnection.HandshakeFailure(description: "dial cancelled") }
            if !winner.utp {
                tcpOnlyPeers.insert(address)
                logger.debug("connected over TCP before uTP answered", metadata: ["peer": "\(address)"])
            }
            return winner
        }
    }

    private static func result(_ body: () async throws -> PeerStream) async -> Result<PeerStream, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    func adopt(_ channel: any Channel) async throws -> PeerStream { try await tcp.adopt(channel) }
}
