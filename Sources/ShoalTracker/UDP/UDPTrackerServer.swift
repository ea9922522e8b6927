import NIOCore
import NIOPosix
import ShoalCore

/// The BEP 15 front end: connect, announce, scrape and error packets over UDP. Packets of the
/// wrong size or action, and announces with a stale or forged connection id, get an error packet
/// or are dropped; nothing a client sends can crash it.
final class UDPTrackerServer: Sendable {
    typealias Channel = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>

    let channel: Channel
    let core: TrackerCore
    let port: Int

    static func start(bind: String, port: Int, core: TrackerCore) async throws -> UDPTrackerServer {
        // No SO_REUSEADDR: UDP has no TIME_WAIT to wait out, and with it Linux gives a port-0
        // bind a port another such socket holds, whose replies then go to the other (seen: one
        // node of the 50-node DHT test heard nothing; 13 shared ports in 900 binds).
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: bind, port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try Channel(wrappingChannelSynchronously: channel) }
            }
        return UDPTrackerServer(channel: channel, core: core, port: channel.channel.localAddress?.port ?? port)
    }

    private init(channel: Channel, core: TrackerCore, port: Int) {
        self.channel = channel
        self.core = core
        self.port = port
    }

    func run() async {
        try? await channel.executeThenClose { inbound, outbound in
            for try await envelope in inbound {
                guard let reply = respond(to: Array(envelope.data.readableBytesView), from: envelope.remoteAddress) else { continue }
                try? await outbound.write(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: reply)))
            }
        }
    }

    func shutdown() async { try? await channel.channel.close() }

    /// One packet in, at most one packet out.
    func respond(to bytes: [UInt8], from remote: SocketAddress) -> [UInt8]? {
        let client = remote.description
        let request: UDPTrackerPacket.Request
        do {
            request = try UDPTrackerPacket.parseRequest(bytes)
        } catch {
            // Answer only what looks like a tracker packet (so we never amplify junk).
            guard bytes.count >= 16 else { return nil }
            return Self.error(bytes.bigEndianUInt32At(12), error.description, answering: bytes)
        }
        let now = ContinuousClock.now
        switch request {
        case .connect(let transaction):
            return UDPTrackerPacket.encode(.connect(transactionID: transaction,
                                                    connectionID: core.connectionIDs.issue(for: client, now: now)))
        case .announce(let announce):
            guard core.connectionIDs.isValid(announce.connectionID, for: client, now: now) else {
                return Self.error(announce.transactionID, "connection id expired", answering: bytes)
            }
            let parsed = TrackerAnnounce(infoHash: announce.infoHash, peerID: announce.peerID,
                                         address: PeerAddress(host: remote.ipAddress ?? "127.0.0.1", port: announce.port),
                                         left: announce.left, event: announce.event,
                                         numwant: announce.numwant < 0 ? 50 : Int(announce.numwant))
            guard announce.port > 0 else {
                return Self.error(announce.transactionID, "invalid port", answering: bytes)
            }
            do {
                let reply = try core.announce(parsed)
                return UDPTrackerPacket.encode(.announce(transactionID: announce.transactionID, interval: reply.interval,
                                                         leechers: reply.incomplete, seeders: reply.complete,
                                                         peers: reply.peers.filter { $0.isIPv6 == parsed.address.isIPv6 }))
            } catch {
                return Self.error(announce.transactionID, error.description, answering: bytes)
            }
        case .scrape(let connection, let transaction, let hashes):
            guard core.connectionIDs.isValid(connection, for: client, now: now) else {
                return Self.error(transaction, "connection id expired", answering: bytes)
            }
            let counts = core.scrape(hashes).map { ScrapeCounts(seeders: $0.1.complete, completed: $0.1.downloaded, leechers: $0.1.incomplete) }
            return UDPTrackerPacket.encode(.scrape(transactionID: transaction, counts: counts))
        }
    }
}

extension UDPTrackerServer {
    /// An error packet no larger than the packet it answers: a forged source address cannot
    /// turn the tracker into an amplifier. The message is cut to fit (whole characters).
    static func error(_ transaction: UInt32, _ message: String, answering request: [UInt8]) -> [UInt8] {
        let room = max(0, request.count - 8)
        var fitted = ""
        for character in message {
            guard fitted.utf8.count + character.utf8.count <= room else { break }
            fitted.append(character)
        }
        return UDPTrackerPacket.encode(.error(transactionID: transaction, message: fitted))
    }
}

extension Array where Element == UInt8 {
    func bigEndianUInt32At(_ offset: Int) -> UInt32 {
        UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16 | UInt32(self[offset + 2]) << 8 | UInt32(self[offset + 3])
    }
}
