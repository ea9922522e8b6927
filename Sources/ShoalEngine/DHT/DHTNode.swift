import Foundation
import Logging
import NIOCore
import NIOPosix
import ShoalCore

/// One Mainline DHT node (BEP 5) on a UDP socket per address family (BEP 32: an IPv4 and an
/// IPv6 DHT, one routing table each, one id): answers other nodes' queries, keeps the routing
/// tables fresh, and runs lookups for the session (`getPeers`, `announce`) in every family it
/// has. The protocol decisions are the pure types in ShoalCore/DHT; this actor only moves
/// datagrams and time. Lookups and upkeep are in DHTNode+Lookups.swift.
public actor DHTNode {
    typealias Channel = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>
    typealias Writer = NIOAsyncChannelOutboundWriter<AddressedEnvelope<ByteBuffer>>

    public nonisolated let ownID: NodeID
    public nonisolated let port: Int
    /// The families this node runs in, with a socket each.
    public nonisolated let families: [DHTFamily]
    /// Bind addresses that could not be had at start, worded for the user (the node runs in
    /// the other families).
    public nonisolated let problems: [String]
    private let channels: [DHTFamily: Channel]
    private var writers: [DHTFamily: Writer] = [:]
    var tables: [DHTFamily: RoutingTable]
    private var store = DHTPeerStore()
    private var tokens: TokenSecrets
    var rng = SystemRandomNumberGenerator()
    let bootstrapNodes: [PeerAddress]
    private let queryTimeout: Duration
    let maintenanceInterval: Duration
    let logger: Logger
    /// Replies awaited, by transaction id; replies that beat their waiter; waiters that timed out.
    private var pending: [[UInt8]: CheckedContinuation<KRPCMessage?, Never>] = [:]
    private var outstanding: Set<[UInt8]> = []
    private var early: [[UInt8]: KRPCMessage] = [:]
    private var expired: Set<[UInt8]> = []
    private var nextTransaction: UInt16 = 0
    private var started = false
    /// Nodes peers told us of (BEP 5 `port` messages), pinged by `run()`'s upkeep.
    private nonisolated let suggestions: AsyncStream<PeerAddress>
    private nonisolated let suggestionSink: AsyncStream<PeerAddress>.Continuation

    /// What is saved between runs: our id and the nodes we knew (of every family).
    public struct SavedState: Codable, Sendable {
        public var id: String
        public var nodes: [SavedNode]
        public struct SavedNode: Codable, Sendable {
            public var id: String
            public var host: String
            public var port: UInt16
        }
    }

    public static func start(bind: String, port: Int, bootstrap: [PeerAddress], saved: SavedState? = nil,
                             queryTimeout: Duration = .seconds(2), maintenanceInterval: Duration = .seconds(60),
                             logger: Logger = Logger(label: "shoal", factory: { _ in SwiftLogNoOpLogHandler() })) async throws -> DHTNode {
        try await start(binds: [bind], port: port, bootstrap: bootstrap, saved: saved, queryTimeout: queryTimeout,
                        maintenanceInterval: maintenanceInterval, logger: logger)
    }

    /// A node on the first IPv4 and the first IPv6 address of `binds`, on one port number (0:
    /// any free one, taken by the first). The first address's failure is thrown; a later one's
    /// is named in `problems` and its family left out.
    public static func start(binds: [String], port: Int, bootstrap: [PeerAddress], saved: SavedState? = nil,
                             queryTimeout: Duration = .seconds(2), maintenanceInterval: Duration = .seconds(60),
                             logger: Logger = Logger(label: "shoal", factory: { _ in SwiftLogNoOpLogHandler() })) async throws -> DHTNode {
        try await start(binds: binds, port: port, bootstrap: bootstrap, saved: saved, queryTimeout: queryTimeout,
                        maintenanceInterval: maintenanceInterval, logger: logger, sharing: nil)
    }

    /// The same with uTP on its sockets (`sharing`).
    static func start(binds: [String], port: Int, bootstrap: [PeerAddress], saved: SavedState?, queryTimeout: Duration,
                      maintenanceInterval: Duration = .seconds(60), logger: Logger, sharing: UTPSockets?) async throws -> DHTNode {
        var families = Set<DHTFamily>()
        let picked = binds.filter { families.insert(DHTFamily(host: $0)).inserted }
        guard let first = picked.first else { throw IOError(errnoCode: EINVAL, reason: "the DHT has no address to bind") }
        var channels: [DHTFamily: Channel] = [DHTFamily(host: first): try await bindSocket(first, port: port, logger: logger, sharing: sharing)]
        let bound = channels.values.first?.channel.localAddress?.port ?? port
        var problems: [String] = []
        for address in picked.dropFirst() {
            do {
                channels[DHTFamily(host: address)] = try await bindSocket(address, port: bound, logger: logger, sharing: sharing)
            } catch {
                problems.append("DHT over \(DHTFamily(host: address).name) off: cannot listen on UDP "
                                + "\(PeerAddress(host: address, port: UInt16(bound))): \(error)")
            }
        }
        let id = saved.flatMap { InfoHash(text: $0.id) }.map(NodeID.init) ?? NodeID.random()
        let node = DHTNode(channels: channels, port: bound, problems: problems, id: id, bootstrap: bootstrap,
                           queryTimeout: queryTimeout, maintenanceInterval: maintenanceInterval, logger: logger)
        await node.restore(saved)
        return node
    }

    /// With `sharing`, uTP's endpoint takes its datagrams from the socket first (BEP 29 beside BEP 5).
    private static func bindSocket(_ host: String, port: Int, logger: Logger, sharing: UTPSockets?) async throws -> Channel {
        // No SO_REUSEADDR: UDP has no TIME_WAIT to wait out, and with it Linux gives a port-0
        // bind a port another such socket holds, whose replies then go to the other (seen: one
        // node of the 50-node DHT test heard nothing; 13 shared ports in 900 binds).
        var bootstrap = DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if DHTFamily(host: host) == .ipv6 {
            // IPv6 only, so `0.0.0.0` and `::` can share the port number.
            bootstrap = bootstrap.channelOption(ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 1)
        }
        return try await bootstrap.bind(host: host, port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(DatagramErrorFilter(logger: logger))
                try sharing?.install(in: channel, family: DHTFamily(host: host))
                return try Channel(wrappingChannelSynchronously: channel)
            }
        }
    }

    private init(channels: [DHTFamily: Channel], port: Int, problems: [String], id: NodeID, bootstrap: [PeerAddress],
                 queryTimeout: Duration, maintenanceInterval: Duration, logger: Logger) {
        self.channels = channels
        self.families = channels.keys.sorted()
        self.problems = problems
        self.logger = logger
        self.ownID = id
        self.port = port
        self.bootstrapNodes = bootstrap
        self.queryTimeout = queryTimeout
        self.maintenanceInterval = maintenanceInterval
        self.tables = Dictionary(uniqueKeysWithValues: channels.keys.map { ($0, RoutingTable(ownID: id)) })
        (suggestions, suggestionSink) = AsyncStream.makeStream(of: PeerAddress.self, bufferingPolicy: .bufferingNewest(64))
        var rng = SystemRandomNumberGenerator()
        self.tokens = TokenSecrets(now: .now, using: &rng)
    }

    private func restore(_ saved: SavedState?) {
        for node in saved?.nodes ?? [] {
            guard let hash = InfoHash(text: node.id) else { continue }
            let info = DHTNodeInfo(id: NodeID(hash), address: PeerAddress(host: node.host, port: node.port).normalized)
            // Saved nodes start questionable: trusted once they answer again.
            tables[info.family]?.heard(from: info, now: .now - RoutingTable.goodFor - .seconds(1))
        }
    }

    public var savedState: SavedState {
        SavedState(id: ownID.description, nodes: families.flatMap { tables[$0]?.allNodes ?? [] }.map {
            SavedState.SavedNode(id: $0.id.description, host: $0.address.host, port: $0.address.port)
        })
    }

    /// Nodes known, in all families.
    public var nodeCount: Int { tables.values.reduce(0) { $0 + $1.count } }

    public func nodeCount(_ family: DHTFamily) -> Int { tables[family]?.count ?? 0 }

    /// Serves until `shutdown()`; a family whose socket fails stops (with a warning), the others go on.
    public func run() async {
        guard !started else { return }
        started = true
        await withDiscardingTaskGroup { group in
            group.addTask { await self.maintain() }
            group.addTask {
                for await address in self.suggestions { await self.ping(address) }
            }
            await withDiscardingTaskGroup { readers in
                for (family, channel) in channels { readers.addTask { await self.read(family, channel) } }
            }
            group.cancelAll()
        }
        writers.removeAll()
        for continuation in pending.values { continuation.resume(returning: nil) }
        pending.removeAll()
    }

    private func read(_ family: DHTFamily, _ channel: Channel) async {
        try? await channel.executeThenClose { inbound, outbound in
            self.setWriter(outbound, for: family)
            do {
                for try await envelope in inbound {
                    await self.received(Array(envelope.data.readableBytesView), from: envelope.remoteAddress, family: family)
                }
            } catch {
                self.logger.warning("DHT over \(family.name) off: its UDP socket failed", metadata: ["error": "\(error)"])
            }
        }
        writers[family] = nil
    }

    /// A peer said its DHT node listens at `address`; it is pinged, and kept if it answers.
    public nonisolated func suggest(_ address: PeerAddress) { suggestionSink.yield(address) }

    public func shutdown() async {
        suggestionSink.finish()
        for channel in channels.values { try? await channel.channel.close() }
        if !started {
            started = true
            for channel in channels.values { try? await channel.executeThenClose { _, _ in } }
        }
    }

    private func setWriter(_ writer: Writer, for family: DHTFamily) { writers[family] = writer }

    // MARK: Incoming

    private func received(_ bytes: [UInt8], from socket: SocketAddress, family: DHTFamily) async {
        guard let host = socket.ipAddress, let port = socket.port, port > 0 else { return }
        let address = PeerAddress(host: host, port: UInt16(port)).normalized
        let message: KRPCMessage
        do {
            message = try KRPCMessage(parsing: bytes)
        } catch {
            // A query we cannot read gets an error reply; anything else is dropped.
            if let transaction = error.transactionID {
                await send(KRPCMessage(transactionID: transaction, body: .error(code: error.code, message: error.description)),
                           to: socket, over: family)
            }
            return
        }
        switch message.body {
        case .query(let query):
            let now = ContinuousClock.now
            tokens.rotateIfDue(now: now, using: &rng)
            let reply = DHTResponder.respond(to: query, transactionID: message.transactionID, from: address, ownID: ownID,
                                             tables: tables, store: &store, tokens: tokens, now: now)
            tables[DHTFamily(of: address)]?.heard(from: DHTNodeInfo(id: query.senderID, address: address), now: now)
            await send(reply, to: socket, over: family)
        case .response, .error:
            let transaction = message.transactionID
            if let continuation = pending.removeValue(forKey: transaction) {
                outstanding.remove(transaction)
                continuation.resume(returning: message)
            } else if outstanding.contains(transaction) {
                early[transaction] = message
            }
        }
    }

    private func send(_ message: KRPCMessage, to socket: SocketAddress, over family: DHTFamily) async {
        guard let writer = writers[family] else { return }
        try? await writer.write(AddressedEnvelope(remoteAddress: socket, data: ByteBuffer(bytes: message.encoded)))
    }

    // MARK: Queries

    private func newTransaction() -> [UInt8] {
        nextTransaction &+= 1
        return [UInt8(nextTransaction >> 8), UInt8(nextTransaction & 0xFF)]
    }

    /// Sends a query over the socket of the address's family and waits up to the timeout for
    /// its answer; updates that family's routing table. Nil at once for a family we lack.
    func query(_ query: KRPCMessage.Query, to address: PeerAddress, id: NodeID? = nil) async -> KRPCMessage.Response? {
        let family = DHTFamily(of: address)
        guard channels[family] != nil, let socket = try? SocketAddress(ipAddress: address.host, port: Int(address.port)) else {
            return nil
        }
        let transaction = newTransaction()
        outstanding.insert(transaction)
        await send(KRPCMessage(transactionID: transaction, body: .query(query)), to: socket, over: family)
        let timeout = queryTimeout
        let reply = await withTaskGroup(of: KRPCMessage?.self) { group in
            group.addTask { await self.awaitReply(transaction) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                await self.expire(transaction)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            await group.waitForAll()
            return first
        }
        outstanding.remove(transaction)
        early[transaction] = nil
        expired.remove(transaction)
        guard case .response(let response)? = reply?.body else {
            if let id { tables[family]?.failed(id) }
            return nil
        }
        tables[family]?.heard(from: DHTNodeInfo(id: response.id, address: address), now: .now)
        return response
    }

    private func awaitReply(_ transaction: [UInt8]) async -> KRPCMessage? {
        if let message = early.removeValue(forKey: transaction) { return message }
        if expired.contains(transaction) { return nil }
        return await withCheckedContinuation { pending[transaction] = $0 }
    }

    private func expire(_ transaction: [UInt8]) {
        if let continuation = pending.removeValue(forKey: transaction) {
            continuation.resume(returning: nil)
        } else {
            expired.insert(transaction)
        }
    }

    func expireStoredPeers(now: ContinuousClock.Instant) {
        store.expire(now: now)
        tokens.rotateIfDue(now: now, using: &rng)
    }
}
