import Logging
import NIOCore
import NIOPosix
import ShoalCore

/// A magnet link's first phase: find peers (the magnet's own peers and trackers, peer exchange,
/// the DHT), fetch the info dictionary in 16 KiB pieces from those that have it (BEP 9), and
/// accept it only when it hashes to the info-hash. `run()` returns the torrent; the session
/// then adds it like any other, keeping the peers found here.
actor MetadataFetcher {
    let magnet: MagnetLink
    let config: EngineConfig
    let port: ListenPort
    nonisolated var listenPort: UInt16 { port.current }
    /// Finds peers in the DHT for this info-hash, when the DHT runs.
    let dhtLookup: (@Sendable (InfoHash) async -> [PeerAddress])?
    private var assembler: MetadataAssembler
    private(set) var known: [PeerAddress: PeerSource] = [:]
    private var dialled: Set<PeerAddress> = []
    /// Peers caught sending metadata that does not match the info-hash; never dialled again.
    private var banned: Set<PeerAddress> = []
    /// Connections made to each address: a peer that went away is tried again, a few times.
    private var attempts: [PeerAddress: Int] = [:]
    static let maxAttempts = 5
    private var connected: [Int: PeerAddress] = [:]
    private var nextKey = 1
    /// The magnet's trackers, each its own tier (as libtorrent reads a magnet), announced to by
    /// the torrent's code (`TieredAnnouncer`), every tier at once, on one schedule with the
    /// trackers' interval and backoff.
    var trackers: TrackerTiers
    private var announceSchedule: AnnounceSchedule
    var rng = SplitMix64()
    private var result: Metainfo?
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>
    static let maxConnections = 20
    /// Connections all torrents share (`maxPeersTotal`): a magnet's count too. Each of its
    /// connections holds a slot from dialling until it ends.
    let peerBudget: PeerBudget
    /// Where its announces wait their turn (the session's).
    let trackerGate: TrackerGate
    /// How its connections are made, as a torrent's are.
    let transport: any PeerTransport
    /// The budget was full when there were peers to dial: the next tick tries again.
    private var waitingForSlot = false
    /// How its connections ended, shown like a torrent's: "peers 0" has a reason here too.
    private(set) var closeCounts = CloseCounts()

    init(magnet: MagnetLink, config: EngineConfig, port: ListenPort, peerBudget: PeerBudget = PeerBudget(limit: .max),
         trackerGate: TrackerGate? = nil,
         transport: (any PeerTransport)? = nil, dhtLookup: (@Sendable (InfoHash) async -> [PeerAddress])? = nil) {
        self.peerBudget = peerBudget
        self.trackerGate = trackerGate ?? TrackerGate(perSecond: config.trackerRequestsPerSecond)
        self.transport = transport ?? TCPTransport(encryption: config.encryption, handshakeTimeout: config.handshakeTimeout)
        self.magnet = magnet
        self.config = config
        self.port = port
        self.dhtLookup = dhtLookup
        self.assembler = MetadataAssembler(infoHash: magnet.infoHash)
        self.trackers = TrackerTiers(magnet.trackers.map { [$0] })
        self.announceSchedule = AnnounceSchedule(policy: config.announcePolicy)
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        for text in magnet.peers { if let address = PeerAddress(parsing: text) { known[address] = .manual } }
    }

    /// Peers being dialled or talked to now.
    var connectedAddresses: [PeerAddress] { connected.values.sorted() }
    var metadataSize: Int? { assembler.totalSize }
    var trackerStates: [TrackerSnapshot] { trackers.states }

    /// Fetches until the metadata is verified (returned) or the task is cancelled (nil).
    func run() async -> Metainfo? {
        let fetcher = self
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await fetcher.announceLoop() }
            group.addTask { await fetcher.dhtLoop() }
            group.addTask { await fetcher.slotLoop() }
            wake.yield()
            // Dials new addresses as they turn up, a bounded number at a time; ends when the
            // metadata is complete or the task is cancelled (the stream then ends).
            for await _ in wakes {
                if result != nil { break }
                for (address, key) in takeDialable() {
                    group.addTask {
                        await fetcher.fetch(from: address, key: key)
                        await fetcher.left(key)
                    }
                }
            }
            group.cancelAll()
        }
        return result
    }

    func addPeers(_ found: [PeerAddress], source: PeerSource) {
        // Bounded like a torrent's address book: a huge list from anyone cannot grow it.
        for address in found.map(\.normalized) where known.count < TorrentRuntime.maxKnownAddresses && known[address] == nil && address.port > 0 {
            known[address] = source
        }
        wake.yield()
    }

    /// Addresses to dial now, each with the key its connection will use, as many as the
    /// fetcher's own cap and the session's connection budget allow.
    private func takeDialable() -> [(PeerAddress, Int)] {
        guard result == nil else { return [] }
        let free = Self.maxConnections - connected.count
        let fresh = known.keys.filter { !dialled.contains($0) && !banned.contains($0) }.sorted().prefix(max(0, free))
        var taken: [(PeerAddress, Int)] = []
        for address in fresh {
            guard peerBudget.take() else {
                if !waitingForSlot {
                    logger.debug("metadata: waiting for a connection slot", metadata: ["limit": "\(peerBudget.limit)"])
                }
                waitingForSlot = true
                break
            }
            dialled.insert(address)
            let key = nextKey
            nextKey += 1
            connected[key] = address
            taken.append((address, key))
        }
        if taken.count == fresh.count { waitingForSlot = false }
        return taken
    }

    /// While the budget keeps peers waiting, looks again every second (as a torrent's tick does).
    private func slotLoop() async {
        while result == nil, (try? await Task.sleep(for: .seconds(1))) != nil {
            if waitingForSlot { wake.yield() }
        }
    }

    nonisolated var logger: Logger {
        var logger = config.logger
        logger[metadataKey: "magnet"] = "\(magnet.infoHash.hex.prefix(12))"
        return logger
    }

    // MARK: Peers from trackers and the DHT

    /// Announces whenever the schedule says (the tracker's interval and min interval, backoff
    /// while every tier fails) until the metadata is here.
    private func announceLoop() async {
        guard !trackers.isEmpty else { return }
        while result == nil && !Task.isCancelled {
            if let event = announceSchedule.begin(now: .now) {
                let response = await announceToEveryTier(event: event)
                let now = ContinuousClock.now
                if let response {
                    announceSchedule.succeeded(interval: response.interval, minInterval: response.minInterval, now: now)
                } else {
                    announceSchedule.failed(now: now)
                }
                trackers.setNextAnnounce(announceSchedule.nextAnnounce)
            }
            if result != nil || Task.isCancelled { return }
            let now = ContinuousClock.now
            let next = announceSchedule.nextAnnounce ?? now + .seconds(1)
            try? await Task.sleep(until: max(next, now + .milliseconds(100)), clock: .continuous)
        }
    }

    private func dhtLoop() async {
        guard let dhtLookup, !Task.isCancelled else { return }
        while result == nil && !Task.isCancelled {
            addPeers(await dhtLookup(magnet.infoHash), source: .dht)
            try? await Task.sleep(for: .seconds(15))
        }
    }

    // MARK: One connection

    private func left(_ key: Int) {
        if let address = connected.removeValue(forKey: key) {
            peerBudget.give()
            attempts[address, default: 0] += 1
            // Gone before the metadata was complete: it may be tried again later, a few times.
            if attempts[address, default: 0] < Self.maxAttempts && !banned.contains(address) { dialled.remove(address) }
        }
        assembler.release(key)
        wake.yield()
    }

    /// The peer says how big the metadata is: pieces to ask it for.
    private func sizeKnown(_ size: Int?, key: Int) -> [Int] {
        guard let size, assembler.learnSize(size) else { return [] }
        return assembler.requests(for: key)
    }

    /// A piece arrived: more to ask for, or nil when this peer should be dropped.
    private func received(_ message: MetadataMessage, key: Int) -> [Int]? {
        switch message {
        case .data(let piece, let totalSize, let bytes):
            switch assembler.receive(piece: piece, totalSize: totalSize, bytes: bytes, from: key) {
            case .needMore: return assembler.requests(for: key)
            case .complete(let raw):
                let tiers = magnet.trackers.map { [$0] }
                guard let metainfo = try? Metainfo(rawInfo: raw, trackerTiers: tiers) else { return nil }
                result = metainfo
                wake.yield()
                return []
            case .hashMismatch:
                // Pieces from several peers did not add up: from now on each round takes every
                // piece from one peer. This connection closes; it may be dialled again.
                return nil
            case .liar(let peer):
                if let address = connected[peer] { banned.insert(address) }
                return nil
            case .rejected: return nil
            }
        case .reject: return nil
        case .request: return []  // we have nothing to serve yet
        }
    }

    private nonisolated func fetch(from address: PeerAddress, key: Int) async {
        var logger = self.logger
        logger[metadataKey: "peer"] = "\(address)"
        logger[metadataKey: "direction"] = "out"
        guard DescriptorBudget.shared.takeSocket() else {
            logger.debug("metadata: not dialled", metadata: ["reason": "\(DescriptorBudget.Exhausted())"])
            return await counted(CloseReason(.enoughPeers, DescriptorBudget.Exhausted().description))
        }
        defer { DescriptorBudget.shared.giveSocket() }
        let reason = await exchange(with: address, key: key)
        logger.debug("metadata: connection closed", metadata: ["reason": "\(reason)"])
        await counted(reason)
    }

    private func counted(_ reason: CloseReason) { closeCounts.add(reason.kind) }

    /// One connection asking a peer for the info dictionary; how it ended.
    private nonisolated func exchange(with address: PeerAddress, key: Int) async -> CloseReason {
        var connected = false
        // Set when the progress timer closed the connection: that close is ours, not the peer's.
        let stalled = PeerConnection.Flag()
        let stall = CloseReason(.timedOut, "no metadata progress for 20 seconds")
        do {
            let channel = try await transport.connect(to: address, infoHash: magnet.infoHash, logger: logger).channel
            connected = true
            let raw = channel.channel
            return try await channel.executeThenClose { inbound, outbound -> CloseReason in
                // A peer that stops making progress for 20 s is closed (an event-loop timer,
                // re-armed on every useful message).
                let arm = {
                    raw.eventLoop.scheduleTask(in: .seconds(20)) {
                        stalled.set()
                        raw.close(promise: nil)
                    }
                }
                var timer = arm()
                defer { timer.cancel() }
                let reserved = Handshake.reservedBits(dht: config.dhtEnabled)
                try await outbound.write(ByteBuffer(bytes: Handshake(infoHash: magnet.infoHash, peerID: config.peerID,
                                                                     reserved: reserved).encoded))
                var iterator = inbound.makeAsyncIterator()
                var decoder = PeerWireDecoder(maxFrameLength: 1 << 20)
                let handshake = try await PeerConnection.readHandshake(&iterator, into: &decoder)
                guard handshake.infoHash == magnet.infoHash else { return CloseReason(.handshakeFailed, "wrong info-hash") }
                guard handshake.peerID != config.peerID else { return CloseReason(.ourselves) }
                guard handshake.supportsExtensions else { return CloseReason(.useless, "no extension protocol, so no metadata") }
                var ids = ["ut_metadata": ExtensionHandshake.utMetadata]
                if config.pexEnabled { ids["ut_pex"] = ExtensionHandshake.utPex }
                let ours = ExtensionHandshake(messageIDs: ids, client: ShoalVersion.createdBy, listenPort: listenPort)
                try await outbound.write(ByteBuffer(bytes: PeerMessage.extended(id: 0, payload: ours.encoded).encoded))
                var theirs: UInt8?
                func ask(_ pieces: [Int]) async throws {
                    guard let theirs else { return }
                    for piece in pieces {
                        let message = PeerMessage.extended(id: theirs, payload: MetadataMessage.request(piece: piece).encoded)
                        try await outbound.write(ByteBuffer(bytes: message.encoded))
                    }
                }
                while true {
                    while let message = try decoder.next() {
                        guard case .extended(let id, let payload) = message else { continue }
                        switch id {
                        case 0:
                            guard let handshake = try? ExtensionHandshake(parsing: payload) else {
                                return .violation("malformed extension handshake")
                            }
                            theirs = handshake.id(of: "ut_metadata")
                            guard theirs != nil else { return CloseReason(.useless, "no ut_metadata") }
                            try await ask(await sizeKnown(handshake.metadataSize, key: key))
                            timer.cancel()
                            timer = arm()
                        case ExtensionHandshake.utMetadata:
                            guard let parsed = try? MetadataMessage(parsing: payload) else { return .violation("malformed ut_metadata message") }
                            guard let more = await received(parsed, key: key) else {
                                return CloseReason(.useless, "rejected, or sent pieces that did not check")
                            }
                            if await result != nil { return CloseReason(.stopped, "metadata complete") }
                            try await ask(more)
                            timer.cancel()
                            timer = arm()
                        case ExtensionHandshake.utPex:
                            if config.pexEnabled, let pex = try? PexMessage(parsing: payload) {
                                await addPeers(pex.added, source: .pex)
                            }
                        default: continue
                        }
                    }
                    guard let buffer = try await iterator.next() else { return stalled.isSet ? stall : CloseReason(.closedByPeer) }
                    decoder.append(buffer.readableBytesView)
                }
            }
        } catch {
            // Unreachable or misbehaving: another peer will do.
            if stalled.isSet { return stall }
            return CloseReason(connected ? .connectionError : .connectFailed, "\(error)")
        }
    }
}

extension MetadataFetcher: TieredAnnouncer {
    /// Its size unknown, it announces as a leecher with something left, so seeds are returned;
    /// with the key its torrent will announce with.
    func announceRequest(_ event: AnnounceRequest.Event) -> AnnounceRequest {
        var request = AnnounceRequest(infoHash: magnet.infoHash, peerID: config.peerID, port: listenPort, left: 1, event: event,
                                      numwant: event == .stopped ? 0 : 50, key: TorrentRuntime.announceKey)
        request.ipv6 = config.announcedIPv6
        return request
    }

    func trackerGavePeers(_ peers: [PeerAddress]) { addPeers(peers, source: .tracker) }
}
