import Logging
import NIOCore
import NIOPosix
import ShoalCore
import Synchronization

/// A magnet link's first phase: find peers (the magnet's own peers and trackers, peer exchange,
/// the DHT), fetch the info dictionary in 16 KiB pieces from those that have it (BEP 9), and
/// accept it only when it hashes to the info-hash. `run()` returns the torrent; the session
/// then adds it like any other, keeping the peers found here. A v2-only torrent's piece layers
/// are fetched the same way after its dictionary (BEP 52 hash requests), and so are those a
/// .torrent file lacks: its fetch starts with the dictionary in hand (`torrentFile`).
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
    /// A v2-only torrent's verified dictionary while its piece layers are fetched (BEP 52).
    private var layers: (raw: [UInt8], assembler: PieceLayerAssembler)?
    /// The .torrent file whose piece layers are fetched (missing or not matching its roots): its
    /// trackers, web seeds and fields are the result's.
    let torrentFile: Metainfo?
    /// Set while the layers are fetched: connections then take hash requests when idle.
    nonisolated let wantsHashes = Atomic<Bool>(false)
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
         transport: (any PeerTransport)? = nil, dhtLookup: (@Sendable (InfoHash) async -> [PeerAddress])? = nil,
         torrentFile: Metainfo? = nil) {
        self.peerBudget = peerBudget
        self.trackerGate = trackerGate ?? TrackerGate(perSecond: config.trackerRequestsPerSecond)
        self.transport = transport ?? TCPTransport(encryption: config.encryption, handshakeTimeout: config.handshakeTimeout)
        self.magnet = magnet
        self.config = config
        self.port = port
        // A private torrent's peers come from its trackers only (BEP 27).
        self.dhtLookup = torrentFile?.info.isPrivate == true ? nil : dhtLookup
        self.torrentFile = torrentFile
        // A v2-only magnet's dictionary is checked by its SHA-256 hash (BEP 52).
        let v2Only = magnet.v2Hash.map { Array($0.prefix(20)) == magnet.infoHash.bytes } ?? false
        self.assembler = MetadataAssembler(infoHash: magnet.infoHash, v2Hash: v2Only ? magnet.v2Hash : nil)
        self.trackers = TrackerTiers(torrentFile?.trackerTiers ?? magnet.trackers.map { [$0] })
        self.announceSchedule = AnnounceSchedule(policy: config.announcePolicy)
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        for text in magnet.peers { if let address = PeerAddress(parsing: text) { known[address] = .manual } }
        if let torrentFile, torrentFile.missingPieceLayer != nil {
            layers = (torrentFile.rawInfo, PieceLayerAssembler(info: torrentFile.info))
            wantsHashes.store(true, ordering: .relaxed)
        }
    }

    /// Whether its connections may exchange peers (not for a private torrent's).
    nonisolated var pexAllowed: Bool { config.pexEnabled && torrentFile?.info.isPrivate != true }

    /// Peers being dialled or talked to now.
    var connectedAddresses: [PeerAddress] { connected.values.sorted() }
    var metadataSize: Int? { assembler.totalSize }

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
                announceSchedule.ended(await announceToEveryTier(event: event), now: .now)
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

    // MARK: Connections

    private func left(_ key: Int) {
        if let address = connected.removeValue(forKey: key) {
            peerBudget.give()
            attempts[address, default: 0] += 1
            // Gone before the metadata was complete: it may be tried again later, a few times.
            if attempts[address, default: 0] < Self.maxAttempts && !banned.contains(address) { dialled.remove(address) }
        }
        assembler.release(key)
        layers?.assembler.release(key)
        wake.yield()
    }

    /// What the connection does after a message taught the fetcher something.
    enum Reply: Sendable, Equatable {
        /// Request these metadata pieces (perhaps none).
        case ask([Int])
        /// Request these hashes of a v2 torrent's files.
        case askHashes([HashRequest])
        case close(CloseReason)
    }

    /// Hash requests for a connection that has none out, while the layers are fetched.
    func pendingHashRequests(_ key: Int) -> [HashRequest] {
        layers?.assembler.requests(for: key) ?? []
    }

    func learned(_ learned: MetadataExchange.Learned, key: Int) -> Reply {
        switch learned {
        case .size(let size):
            // The dictionary is here: a new connection is asked for the layers at once.
            if layers != nil { return .askHashes(pendingHashRequests(key)) }
            guard let size, assembler.learnSize(size) else { return .ask([]) }
            return .ask(assembler.requests(for: key))
        case .peers(let peers):
            addPeers(peers, source: .pex)
            return .ask([])
        case .metadata(.request):
            return .ask([])  // we have nothing to serve yet
        case .hashes(let request, let hashes):
            guard var pending = layers else { return .ask([]) }
            let outcome = pending.assembler.received(request, hashes: hashes, from: key)
            layers = pending
            switch outcome {
            case .needMore:
                return .askHashes(pending.assembler.requests(for: key))
            case .bad(let why):
                if let address = connected[key] { banned.insert(address) }
                layers?.assembler.release(key)
                return .close(CloseReason(.badData, why))
            case .complete:
                return finish(raw: pending.raw, layers: pending.assembler.encodedLayers)
            }
        case .hashReject:
            layers?.assembler.release(key)
            return .close(CloseReason(.useless, "refused our hash requests"))
        case .metadata(.reject):
            return .close(CloseReason(.useless, "rejected our metadata request"))
        case .metadata(.data(let piece, let totalSize, let bytes)):
            switch assembler.receive(piece: piece, totalSize: totalSize, bytes: bytes, from: key) {
            case .needMore:
                return .ask(assembler.requests(for: key))
            case .complete(let raw):
                let tiers = magnet.trackers.map { [$0] }
                guard let metainfo = try? Metainfo(rawInfo: raw, trackerTiers: tiers) else {
                    return .close(CloseReason(.useless, "the metadata hashed right but is not a torrent's info dictionary"))
                }
                // A v2-only torrent's larger files need their piece layers before a piece can be checked.
                if metainfo.missingPieceLayer != nil {
                    var assembler = PieceLayerAssembler(info: metainfo.info)
                    let first = assembler.requests(for: key)
                    layers = (raw, assembler)
                    wantsHashes.store(true, ordering: .relaxed)
                    logger.debug("metadata: complete, asking for the piece layers")
                    return .askHashes(first)
                }
                result = metainfo
                wake.yield()
                return .close(CloseReason(.stopped, "metadata complete"))
            case .hashMismatch:
                // Pieces from several peers did not add up: from now on each round takes every
                // piece from one peer. This connection closes; it may be dialled again.
                return .close(CloseReason(.useless, "the pieces did not hash to the info-hash"))
            case .liar(let peer):
                if let address = connected[peer] { banned.insert(address) }
                return .close(CloseReason(.badData, "sent metadata that does not hash to the info-hash"))
            case .rejected:
                return .close(CloseReason(.useless, "sent a metadata piece that does not fit"))
            }
        }
    }

    /// The dictionary and its layers as a torrent file, the fetch's result.
    private func finish(raw: [UInt8], layers encoded: [UInt8]) -> Reply {
        let made = torrentFile.map { try? $0.withPieceLayers(encoded) }
            ?? (try? Metainfo(rawInfo: raw, pieceLayers: encoded, trackerTiers: magnet.trackers.map { [$0] }))
        guard let metainfo = made, metainfo.missingPieceLayer == nil
        else { return .close(CloseReason(.useless, "the piece layers did not make a torrent")) }
        result = metainfo
        layers = nil
        wantsHashes.store(false, ordering: .relaxed)
        wake.yield()
        return .close(CloseReason(.stopped, "metadata and piece layers complete"))
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
        let reason = await MetadataConnection.dial(address, key: key, fetcher: self)
        logger.debug("metadata: connection closed", metadata: ["reason": "\(reason)"])
        await counted(reason)
    }

    private func counted(_ reason: CloseReason) { closeCounts.add(reason.kind) }

    /// A peer dialled us for this magnet (it found our port at a tracker or in the DHT): the
    /// key its connection runs under, or why it is turned away. It holds a slot like a dial.
    func takeIncoming(_ address: PeerAddress) -> Admission {
        guard result == nil else { return .refused(CloseReason(.stopped, "metadata complete")) }
        guard !banned.contains(address) else { return .refused(CloseReason(.banned, "sent metadata that did not check")) }
        guard !connected.values.contains(address) else { return .refused(CloseReason(.duplicate)) }
        guard connected.count < Self.maxConnections, peerBudget.take() else {
            return .refused(CloseReason(.enoughPeers, "the magnet's connection slots are full"))
        }
        let key = nextKey
        nextKey += 1
        connected[key] = address
        return .admitted(key)
    }

    enum Admission: Sendable {
        case admitted(Int)
        case refused(CloseReason)
    }

    /// An accepted connection ended.
    func incomingEnded(_ key: Int, reason: CloseReason) {
        var logger = self.logger
        logger[metadataKey: "peer"] = "\(connected[key].map(\.description) ?? "?")"
        logger[metadataKey: "direction"] = "in"
        logger.debug("metadata: connection closed", metadata: ["reason": "\(reason)"])
        counted(reason)
        left(key)
    }

    /// A peer we turned away: counted and logged with why, as a closed connection is.
    func refusedIncoming(_ address: PeerAddress, _ reason: CloseReason) {
        var logger = self.logger
        logger[metadataKey: "peer"] = "\(address)"
        logger[metadataKey: "direction"] = "in"
        logger.debug("metadata: refused", metadata: ["reason": "\(reason)"])
        counted(reason)
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

    nonisolated var secondInfoHash: InfoHash? { nil }
}
