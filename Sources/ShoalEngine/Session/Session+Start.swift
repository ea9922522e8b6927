import NIOCore
import NIOPosix
import ShoalCore

/// Starting a session: the peer listeners bound (and the DHT's UDP socket on the same port)
/// before anything else, so a port that cannot be had fails the start with the reason.
extension Session {
    /// Binds the listener (the configured port, or the next free one of the following 20; 0 = any).
    public static func start(_ config: EngineConfig) async throws -> Session {
        let torrents = EncryptedTorrentIndex()
        let transport = TCPTransport(encryption: config.encryption, torrents: torrents, handshakeTimeout: config.handshakeTimeout)
        return try await start(config, transport: transport, torrents: torrents)
    }

    /// The same over another transport (tests use one that obfuscates every byte); `torrents`
    /// is the index the transport finds an encrypted handshake's torrent in.
    static func start(_ config: EngineConfig, transport: any PeerTransport,
                      torrents: EncryptedTorrentIndex = EncryptedTorrentIndex()) async throws -> Session {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        var lastError = ""
        // Port 0 takes any free TCP port; the DHT wants the same number on UDP, which another
        // socket may hold: a few tries with other ports before starting without the DHT.
        let ports: [Int] = config.listenPort == 0 ? [0, 0, 0, 0, 0] : (0..<20).map { Int(config.listenPort) + $0 }.filter { $0 < 65536 }
        let addresses = config.bindAddresses.isEmpty ? ["0.0.0.0"] : config.bindAddresses
        for (attempt, port) in ports.enumerated() {
            let listeners: PeerListener.Group
            do {
                listeners = try await PeerListener.bind(addresses, port: port)
            } catch {
                lastError = "\(error)"
                continue
            }
            let bound = listeners.port
            var problems = listeners.problems
            // The DHT listens on UDP at the same port number, as other clients do: an IPv4 node
            // (BEP 5) on the first IPv4 address and an IPv6 one (BEP 32) on the first IPv6 address.
            var dht: DHTNode?
            // uTP shares the port's UDP socket with the DHT (told apart by the first byte), or has its own.
            var utp = config.utpEnabled ? UTPSockets(limit: config.maxPeersTotal, logger: config.logger) : nil
            if config.dhtEnabled {
                do {
                    let node = try await DHTNode.start(binds: addresses, port: Int(bound), bootstrap: config.dhtBootstrap,
                                                       saved: config.stateDirectory.flatMap { SessionStore(directory: $0).loadDHT() },
                                                       queryTimeout: config.dhtQueryTimeout, logger: config.logger, sharing: utp)
                    // A family the listeners have but the DHT could not get is a port another
                    // UDP socket holds: with port 0, another port is tried.
                    if !node.problems.isEmpty && listeners.problems.isEmpty && port == 0 && attempt < ports.count - 1 {
                        await node.shutdown()
                        await PeerListener.drain(listeners.servers)
                        continue
                    }
                    problems += node.problems
                    dht = node
                } catch {
                    if port == 0 && attempt < ports.count - 1 {
                        await PeerListener.drain(listeners.servers)
                        continue
                    }
                    problems.append("DHT off: cannot listen on UDP port \(bound): \(error)")
                    // uTP may have been put into a socket the failed start closed: it gets its own.
                    if utp != nil { utp = UTPSockets(limit: config.maxPeersTotal, logger: config.logger) }
                }
            }
            if let utp, !utp.isListening { problems += await utp.bind(addresses, port: Int(bound)) }
            // Dials try uTP first when it listens; a test's own transport is kept as it is.
            var chosen = transport
            if let utp, utp.isListening, let tcp = transport as? TCPTransport {
                chosen = PreferredTransport(tcp: tcp, sockets: utp, dialsUTP: true)
            }
            let session = Session(config: config, servers: listeners.servers, port: bound, pool: pool, dht: dht, transport: chosen,
                                  torrents: torrents, utp: utp)
            for problem in problems { await session.report(problem) }
            return session
        }
        try? await pool.shutdownGracefully()
        throw SessionError.cannotListen(lastError)
    }
}
