import Logging
import NIOCore
import NIOPosix
import ShoalCore
import Synchronization

/// How a peer connection's bytes travel, below the BitTorrent handshake. Everything above it —
/// the handshakes, `PeerLink`, `BlockSender`, the reader, the metadata fetcher — works on the
/// channel a transport returns, which carries the peer protocol in the clear.
///
/// `TCPTransport` carries it over TCP, or over uTP streams (`UTPSockets`), with Message Stream
/// Encryption the same way on both; `PreferredTransport` dials uTP first and falls back to TCP.
protocol PeerTransport: Sendable {
    /// Connects to `address` for the torrent `infoHash` (an encrypted handshake names it).
    func connect(to address: PeerAddress, infoHash: InfoHash, logger: Logger) async throws -> PeerStream
    /// Takes a connection a listener accepted (opened with autoRead off) and starts reading.
    func adopt(_ channel: any Channel) async throws -> PeerStream
}

/// A connection ready for the BitTorrent handshake.
struct PeerStream: Sendable {
    let channel: PeerConnection.Channel
    /// RC4 runs under it (the Peers tab's `E`).
    let encrypted: Bool
    /// The torrent an encrypted handshake named: the BitTorrent handshake must name the same.
    let infoHash: InfoHash?
    /// Carried by uTP (the Peers tab's `T`).
    var utp = false
}

/// TCP, with Message Stream Encryption as `encryption` says (see `MSEHandler`). A plaintext
/// connection runs as it always did: one event loop per socket, writes straight to it.
struct TCPTransport: PeerTransport {
    let group: any EventLoopGroup
    /// Read at every dial and accept, so a remote's `session-set` applies to the next connection.
    let policy: EncryptionSetting
    var encryption: EncryptionPolicy { policy.value }
    /// Finds the torrent an incoming encrypted handshake asks for.
    let torrents: EncryptedTorrentIndex
    /// Bounds the encrypted handshake (and an incoming one's opening bytes).
    let handshakeTimeout: Duration
    /// Peers whose encrypted handshake failed: redials go plaintext at once (as Transmission
    /// remembers), instead of paying for a refused attempt every time.
    let plaintextPeers = PlaintextPeers()
    /// Dials go over these uTP sockets instead of TCP.
    var utp: UTPSockets?

    init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, encryption: EncryptionPolicy,
         torrents: EncryptedTorrentIndex = EncryptedTorrentIndex(), handshakeTimeout: Duration = PeerContext.handshakeTimeout) {
        self.group = group
        self.policy = EncryptionSetting(encryption)
        self.torrents = torrents
        self.handshakeTimeout = handshakeTimeout
    }

    func connect(to address: PeerAddress, infoHash: InfoHash, logger: Logger) async throws -> PeerStream {
        var attempts = encryption.dialAttempts
        if attempts.count > 1, plaintextPeers.contains(address) { attempts.removeFirst() }
        for (index, attempt) in attempts.enumerated() {
            switch attempt {
            case .plaintext:
                let channel = try await open(address) { PeerConnection.wrap($0) }
                return PeerStream(channel: channel, encrypted: false, infoHash: nil, utp: utp != nil)
            case .encrypted:
                do {
                    return try await connectEncrypted(to: address, infoHash: infoHash)
                } catch let failure as PeerConnection.HandshakeFailure where index + 1 < attempts.count {
                    // A peer that does not speak MSE closes at our key; try it once in plaintext.
                    plaintextPeers.insert(address)
                    logger.debug("encrypted handshake failed; trying plaintext",
                                 metadata: ["peer": "\(address)", "reason": "\(failure)"])
                }
            }
        }
        throw PeerConnection.HandshakeFailure(description: "no way to connect left to try")
    }

    private func connectEncrypted(to address: PeerAddress, infoHash: InfoHash) async throws -> PeerStream {
        let (channel, negotiated) = try await open(address) { [encryption] raw in
            raw.eventLoop.makeCompletedFuture {
                let handler = MSEHandler(initiating: infoHash, policy: encryption, eventLoop: raw.eventLoop)
                try handler.install(in: raw)
                return (try PeerConnection.Channel(wrappingChannelSynchronously: raw, configuration: PeerConnection.configuration),
                        handler.negotiated.futureResult)
            }
        }
        return try await finish(channel, negotiated, utp: utp != nil)
    }

    func adopt(_ raw: any Channel) async throws -> PeerStream {
        let (channel, negotiated) = try await raw.eventLoop.submit { [encryption, torrents] in
            let handler = MSEHandler(responding: encryption, lookup: torrents.lookup, eventLoop: raw.eventLoop)
            try handler.install(in: raw, position: .first)
            let wrapped = try PeerConnection.Channel(wrappingChannelSynchronously: raw, configuration: PeerConnection.configuration)
            try raw.syncOptions?.setOption(.autoRead, value: true)
            return (wrapped, handler.negotiated.futureResult)
        }.get()
        return try await finish(channel, negotiated, utp: false)
    }

    /// Waits, bounded, for the handler to tell how the stream came out.
    private func finish(_ channel: PeerConnection.Channel, _ negotiated: EventLoopFuture<MSEHandler.Outcome>,
                        utp: Bool) async throws -> PeerStream {
        do {
            let outcome = try await PeerConnection.withDeadline(channel: channel.channel, timeout: handshakeTimeout) {
                try await negotiated.get()
            }
            return PeerStream(channel: channel, encrypted: outcome.encrypted, infoHash: outcome.infoHash, utp: utp)
        } catch {
            // An async channel must be run before it is dropped, even a closed one.
            try? await channel.executeThenClose { _, _ in }
            throw error
        }
    }
}

/// The addresses `TCPTransport` dials in plaintext straight away, bounded: past the cap the
/// oldest half is forgotten (and tried encrypted again).
final class PlaintextPeers: Sendable {
    static let limit = 4096
    private let state = Mutex<(set: Set<PeerAddress>, order: [PeerAddress])>(([], []))

    func contains(_ address: PeerAddress) -> Bool { state.withLock { $0.set.contains(address) } }

    func insert(_ address: PeerAddress) {
        state.withLock { state in
            guard state.set.insert(address).inserted else { return }
            state.order.append(address)
            if state.order.count > Self.limit {
                let forgotten = state.order.prefix(Self.limit / 2)
                state.set.subtract(forgotten)
                state.order.removeFirst(Self.limit / 2)
            }
        }
    }
}

/// The encryption policy in force, changeable while connections come and go.
final class EncryptionSetting: Sendable {
    private let current: Mutex<EncryptionPolicy>
    init(_ policy: EncryptionPolicy) { current = Mutex(policy) }
    var value: EncryptionPolicy { current.withLock { $0 } }
    func set(_ policy: EncryptionPolicy) { current.withLock { $0 = policy } }
}
