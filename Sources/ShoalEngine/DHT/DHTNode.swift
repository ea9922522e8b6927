import Foundation
import Logging
import NIOCore
import NIOPosix
import ShoalCore

/// One Mainline DHT node (BEP 5) on a UDP socket: answers other nodes' queries, keeps the
/// routing table fresh, and runs lookups for the session (`getPeers`, `announce`). The protocol
/// decisions are the pure types in ShoalCore/DHT; this actor only moves datagrams and time.
public actor DHTNode {
    typealias Channel = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>
    typealias Writer = NIOAsyncChannelOutboundWriter<AddressedEnvelope<ByteBuffer>>

    public nonisolated let ownID: NodeID
    public nonisolated let port: Int
    private let channel: Channel
    private var writer: Writer?
    private var table: RoutingTable
    private var store = DHTPeerStore()
    private var tokens: TokenSecrets
    private var rng = SystemRandomNumberGenerator()
    private let bootstrapNodes: [PeerAddress]
    private let queryTimeout: Duration
    private let maintenanceInterval: Duration
    private let logger: Logger
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

    /// What is saved between runs: our id and the nodes we knew.
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
        // No SO_REUSEADDR: UDP has no TIME_WAIT to wait out, and with it Linux gives a port-0
        // bind a port another such socket holds, whose replies then go to the other (seen: one
        // node of the 50-node DHT test heard nothing; 13 shared ports in 900 binds).
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: bind, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramErrorFilter(logger: logger))
                    return try Channel(wrappingChannelSynchronously: channel)
                }
            }
        let id = saved.flatMap { InfoHash(text: $0.id) }.map(NodeID.init) ?? NodeID.random()
        let node = DHTNode(channel: channel, id: id, bootstrap: bootstrap, queryTimeout: queryTimeout,
                           maintenanceInterval: maintenanceInterval, logger: logger)
        await node.restore(saved)
        return node
    }

    private init(channel: Channel, id: NodeID, bootstrap: [PeerAddress], queryTimeout: Duration, maintenanceInterval: Duration,
                 logger: Logger) {
        self.channel = channel
        self.logger = logger
        self.ownID = id
        self.port = channel.channel.localAddress?.port ?? 0
        self.bootstrapNodes = bootstrap
        self.queryTimeout = queryTimeout
        self.maintenanceInterval = maintenanceInterval
        self.table = RoutingTable(ownID: id)
        (suggestions, suggestionSink) = AsyncStream.makeStream(of: PeerAddress.self, bufferingPolicy: .bufferingNewest(64))
        var rng = SystemRandomNumberGenerator()
        self.tokens = TokenSecrets(now: .now, using: &rng)
    }

    private func restore(_ saved: SavedState?) {
        for node in saved?.nodes ?? [] {
            guard let hash = InfoHash(text: node.id) else { continue }
            // Saved nodes start questionable: trusted once they answer again.
            table.heard(from: DHTNodeInfo(id: NodeID(hash), address: PeerAddress(host: node.host, port: node.port)),
                        now: .now - RoutingTable.goodFor - .seconds(1))
        }
    }

    public var savedState: SavedState {
        SavedState(id: ownID.description, nodes: table.allNodes.map {
            SavedState.SavedNode(id: $0.id.description, host: $0.address.host, port: $0.address.port)
        })
    }

    public var nodeCount: Int { table.count }

    /// Serves until `shutdown()`.
    public func run() async {
        guard !started else { return }
        started = true
        try? await channel.executeThenClose { inbound, outbound in
            self.setWriter(outbound)
            await withDiscardingTaskGroup { group in
                group.addTask { await self.maintain() }
                group.addTask {
                    for await address in self.suggestions { await self.ping(address) }
                }
                do {
                    for try await envelope in inbound {
                        await self.received(Array(envelope.data.readableBytesView), from: envelope.remoteAddress)
                    }
                } catch {
                    self.logger.warning("DHT off: its UDP socket failed", metadata: ["error": "\(error)"])
                }
                group.cancelAll()
            }
        }
        writer = nil
        for continuation in pending.values { continuation.resume(returning: nil) }
        pending.removeAll()
    }

    /// A peer said its DHT node listens at `address`; it is pinged, and kept if it answers.
    public nonisolated func suggest(_ address: PeerAddress) { suggestionSink.yield(address) }

    public func shutdown() async {
        suggestionSink.finish()
        try? await channel.channel.close()
        if !started {
            started = true
            try? await channel.executeThenClose { _, _ in }
        }
    }

    private func setWriter(_ writer: Writer) { self.writer = writer }

    // MARK: Incoming

    private func received(_ bytes: [UInt8], from socket: SocketAddress) async {
        guard let host = socket.ipAddress, let port = socket.port, port > 0 else { return }
        let address = PeerAddress(host: host, port: UInt16(port))
        let message: KRPCMessage
        do {
            message = try KRPCMessage(parsing: bytes)
        } catch {
            // A query we cannot read gets an error reply; anything else is dropped.
            if let transaction = error.transactionID {
                await send(KRPCMessage(transactionID: transaction, body: .error(code: error.code, message: error.description)), to: socket)
            }
            return
        }
        switch message.body {
        case .query(let query):
            let now = ContinuousClock.now
            tokens.rotateIfDue(now: now, using: &rng)
            let reply = DHTResponder.respond(to: query, transactionID: message.transactionID, from: address, ownID: ownID,
                                             table: table, store: &store, tokens: tokens, now: now)
            table.heard(from: DHTNodeInfo(id: query.senderID, address: address), now: now)
            await send(reply, to: socket)
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

    private func send(_ message: KRPCMessage, to socket: SocketAddress) async {
        guard let writer else { return }
        try? await writer.write(AddressedEnvelope(remoteAddress: socket, data: ByteBuffer(bytes: message.encoded)))
    }

    // MARK: Queries

    private func newTransaction() -> [UInt8] {
        nextTransaction &+= 1
        return [UInt8(nextTransaction >> 8), UInt8(nextTransaction & 0xFF)]
    }

    /// Sends a query and waits up to the timeout for its answer; updates the routing table.
    func query(_ query: KRPCMessage.Query, to address: PeerAddress, id: NodeID? = nil) async -> KRPCMessage.Response? {
        guard let socket = try? SocketAddress(ipAddress: address.host, port: Int(address.port)) else { return nil }
        let transaction = newTransaction()
        outstanding.insert(transaction)
        await send(KRPCMessage(transactionID: transaction, body: .query(query)), to: socket)
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
            if let id { table.failed(id) }
            return nil
        }
        table.heard(from: DHTNodeInfo(id: response.id, address: address), now: .now)
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

    // MARK: Lookups

    private func lookup(_ target: NodeID, getPeers hash: InfoHash?) async -> DHTLookup {
        var lookup = DHTLookup(target: target, start: table.closest(to: target, count: 16))
        let ownID = self.ownID
        while !lookup.isDone {
            let batch = lookup.next()
            if batch.isEmpty { break }
            let answers = await withTaskGroup(of: (DHTNodeInfo, KRPCMessage.Response?).self) { group in
                for node in batch {
                    let query: KRPCMessage.Query = hash.map { .getPeers(id: ownID, infoHash: $0) } ?? .findNode(id: ownID, target: target)
                    group.addTask { (node, await self.query(query, to: node.address, id: node.id)) }
                }
                var answers: [(DHTNodeInfo, KRPCMessage.Response?)] = []
                for await answer in group { answers.append(answer) }
                return answers
            }
            for (node, response) in answers {
                if let response {
                    lookup.answered(node.id, nodes: response.nodes, values: response.values, token: response.token)
                } else {
                    lookup.failed(node.id)
                }
            }
        }
        return lookup
    }

    /// Peers for a torrent, found by an iterative `get_peers` lookup.
    public func getPeers(_ hash: InfoHash) async -> [PeerAddress] {
        await ensureBootstrapped()
        return Array(await lookup(NodeID(hash), getPeers: hash).peers)
    }

    /// Looks the torrent up, tells the closest nodes we have it (listening on `port`), and
    /// returns the peers the lookup found.
    public func announce(_ hash: InfoHash, port: UInt16) async -> [PeerAddress] {
        await announceCounted(hash, port: port).peers
    }

    /// The same, also saying how many nodes took the announce.
    public func announceCounted(_ hash: InfoHash, port: UInt16) async -> (peers: [PeerAddress], acceptedBy: Int) {
        await ensureBootstrapped()
        let result = await lookup(NodeID(hash), getPeers: hash)
        let ownID = self.ownID
        let accepted = await withTaskGroup(of: Bool.self) { group in
            for (node, token) in result.closestAnswered {
                group.addTask {
                    await self.query(.announcePeer(id: ownID, infoHash: hash, port: port, token: token, impliedPort: false),
                                     to: node.address, id: node.id) != nil
                }
            }
            var accepted = 0
            for await answered in group where answered { accepted += 1 }
            return accepted
        }
        return (Array(result.peers), accepted)
    }

    /// A peer told us its DHT port (BEP 5 `port` message): a node worth a ping.
    public func ping(_ address: PeerAddress) async {
        _ = await query(.ping(id: ownID), to: address)
    }

    // MARK: Upkeep

    private func ensureBootstrapped() async {
        guard table.count < RoutingTable.bucketSize else { return }
        await bootstrap()
    }

    /// Asks the bootstrap nodes and what we know for nodes near our own id, then refreshes the
    /// far buckets. A lookup of our own id only meets nodes on our side of the id space; without
    /// the refresh a group of nodes that joined together can know only each other, and their
    /// lookups for anything elsewhere never leave the group (seen in the 50-node test: a fifth
    /// of the nodes could not find an announced peer).
    public func bootstrap() async {
        let ownID = self.ownID
        await withTaskGroup(of: Void.self) { group in
            for address in bootstrapNodes {
                group.addTask { _ = await self.query(.findNode(id: ownID, target: ownID), to: address) }
            }
        }
        _ = await lookup(ownID, getPeers: nil)
        for bucket in 0..<Self.refreshedBuckets {
            _ = await lookup(ownID.random(sharing: bucket, using: &rng), getPeers: nil)
        }
    }

    /// The far buckets, which cover most of the id space (bucket `i` holds 1/2^(i+1) of it).
    static let refreshedBuckets = 3

    private func maintain() async {
        // A bootstrap that met nobody (the nodes were slow or not up yet) is tried again soon,
        // 5 s doubling up to the maintenance interval, not a whole interval later.
        var emptyRetry = Duration.seconds(5)
        while !Task.isCancelled {
            if table.count < RoutingTable.bucketSize { await bootstrap() }
            let now = ContinuousClock.now
            // Questionable nodes are pinged (a few at a time): an answer makes them good again.
            let stale = Array(table.questionable(now: now).prefix(8))
            let ownID = self.ownID
            await withTaskGroup(of: Void.self) { group in
                for node in stale { group.addTask { _ = await self.query(.ping(id: ownID), to: node.address, id: node.id) } }
            }
            store.expire(now: now)
            tokens.rotateIfDue(now: now, using: &rng)
            if table.count == 0 && !bootstrapNodes.isEmpty {
                try? await Task.sleep(for: min(emptyRetry, maintenanceInterval))
                emptyRetry = emptyRetry * 2
            } else {
                emptyRetry = .seconds(5)
                try? await Task.sleep(for: maintenanceInterval)
            }
        }
    }
}
