/// What one peer may send us, and what its messages mean once checked: the rules of BEP 3 and
/// the fast extension (BEP 6) as a plain value, fed decoded messages and returning a verdict.
/// The torrent acts on what it accepts (the picker, the choker, serving); a message that breaks
/// a rule closes the connection, with the reason.
public struct PeerConduct: Sendable {
    /// Whether its handshake offered the fast extension (BEP 6).
    public let supportsFast: Bool
    /// A bitfield (or have all/none) is only allowed as the first message.
    public private(set) var sawFirstMessage = false
    public var amChoking = true
    public private(set) var peerChoking = true
    public private(set) var peerInterested = false
    /// Requests received while we choke it: a few are normal (in flight when we choked), a flood is not.
    public private(set) var requestsWhileChoked = 0
    /// Pieces we let it request while we choke it (BEP 6 allowed fast).
    public var allowedFastGiven: Set<Int> = []
    /// When its last complete message arrived (any message, keep-alives too).
    public private(set) var lastMessageAt: ContinuousClock.Instant
    /// When it last sent a block we asked for; and whether it is snubbing us (see `tick`).
    public private(set) var lastBlockAt: ContinuousClock.Instant
    public private(set) var isSnubbed = false
    /// Its extension handshake (BEP 10), and when it last sent peer exchange.
    public internal(set) var extensions: ExtensionHandshake?
    var pexReceivedAt: ContinuousClock.Instant?

    /// Hash requests (BEP 52) it may make at once, and how fast that allowance comes back: a
    /// magnet's layers take a few hundred runs at most, while each block-hash answer reads a
    /// piece from disk, so a flood of them is closed.
    public static let hashRequestBurst = 256
    public static let hashRequestsPerSecond = 20.0
    private var hashRequestAllowance = Double(hashRequestBurst)
    private var hashAllowanceAt: ContinuousClock.Instant?

    /// Past this many requests while choked, it is flooding.
    public static let maxRequestsWhileChoked = 256
    /// Queued uploads before its requests count as a flood; also what we advertise as `reqq`.
    public static let maxQueuedUploads = 2000

    public init(supportsFast: Bool, now: ContinuousClock.Instant) {
        self.supportsFast = supportsFast
        self.lastMessageAt = now
        self.lastBlockAt = now
    }

    /// What the torrent is, for judging a message.
    public struct Context {
        public let geometry: TorrentGeometry
        public let have: Bitfield
        /// Whether we serve requests now (downloading or seeding, not stopping).
        public let serving: Bool
        /// Uploads already queued for this peer.
        public var queuedUploads: Int
        public let now: ContinuousClock.Instant
        /// Whether peer exchange is on for this torrent (never for a private one).
        public let pexAllowed: Bool
        /// Bytes waiting for this peer's socket.
        public var unsentBytes: Int

        public init(geometry: TorrentGeometry, have: Bitfield, serving: Bool, queuedUploads: Int, now: ContinuousClock.Instant,
                    pexAllowed: Bool = false, unsentBytes: Int = 0) {
            self.geometry = geometry
            self.have = have
            self.serving = serving
            self.queuedUploads = queuedUploads
            self.now = now
            self.pexAllowed = pexAllowed
            self.unsentBytes = unsentBytes
        }
    }

    /// A checked message, for the torrent to act on.
    public enum Event: Sendable, Equatable {
        case keepAlive
        case choked, unchoked, interested, notInterested
        /// What it has: its first bitfield or have all/none (`first`), or a later batch of haves.
        case has(Bitfield, first: Bool)
        case hasPiece(PieceIndex)
        case request(BlockRequest)
        /// A request it made while choked: answered with a reject if it speaks the fast extension.
        case requestWhileChoked(BlockRequest)
        case cancel(BlockRequest)
        case block(BlockRequest, data: [UInt8])
        case rejected(BlockRequest)
        case allowedFast(Int)
        case dhtPort(UInt16)
        /// Its extension handshake, kept in `extensions`.
        case extensionHandshake(ExtensionHandshake)
        /// It asks for a piece of the info dictionary; the reply goes to its `replyID`.
        case metadataRequest(piece: Int, replyID: UInt8)
        case peerExchange(PexMessage)
        /// It asks for hashes of a v2 file's tree (BEP 52): answered or refused.
        case hashRequest(HashRequest)
        /// Hashes it sent (the torrent knows whether it asked).
        case hashes(HashRequest, [UInt8])
        /// A suggestion, an unknown message, an out-of-range allowed-fast: nothing to do.
        case ignored
    }

    public enum Verdict: Sendable, Equatable {
        case accept(Event)
        case close(CloseReason)
    }

    /// Judges one message (in order of arrival) and updates what the peer's state bits say.
    public mutating func receive(_ message: PeerMessage, context: Context) -> Verdict {
        let geometry = context.geometry
        let first = !sawFirstMessage
        lastMessageAt = context.now
        // The have-message slot (bitfield, have all/none) is the first after the handshake; an
        // extension handshake some clients send before it does not take the slot.
        if case .extended = message {} else { sawFirstMessage = true }
        switch message {
        case .keepAlive: return .accept(.keepAlive)
        case .unknown, .suggest: return .accept(.ignored)
        // A refusal changes nothing: the piece is blamed the v1 way meanwhile.
        case .hashReject: return .accept(.ignored)
        case .hashes(let request, let hashes): return .accept(.hashes(request, hashes))
        case .hashRequest(let request):
            let elapsed = hashAllowanceAt.map { Double((context.now - $0) / .milliseconds(1)) / 1000 } ?? 0
            hashAllowanceAt = context.now
            hashRequestAllowance = min(Double(Self.hashRequestBurst), hashRequestAllowance + max(0, elapsed) * Self.hashRequestsPerSecond)
            guard hashRequestAllowance >= 1 else {
                return .close(CloseReason(.flood, "hash requests faster than \(Int(Self.hashRequestsPerSecond)) a second after \(Self.hashRequestBurst)"))
            }
            hashRequestAllowance -= 1
            return .accept(.hashRequest(request))
        case .port(let port): return .accept(port > 0 ? .dhtPort(port) : .ignored)
        case .extended(let id, let payload): return receiveExtended(id, payload, context: context)
        case .choke:
            peerChoking = true
            return .accept(.choked)
        case .unchoke:
            peerChoking = false
            return .accept(.unchoked)
        case .interested:
            peerInterested = true
            return .accept(.interested)
        case .notInterested:
            peerInterested = false
            return .accept(.notInterested)
        case .haveAll, .haveNone:
            guard supportsFast else { return .close(.violation("have all/none without the fast extension")) }
            guard first else { return .close(.violation("have all/none after the first message")) }
            return .accept(.has(Bitfield(count: geometry.pieceCount, allSet: message == .haveAll), first: true))
        case .bitfield(let bytes):
            guard let bits = Bitfield(bytes: bytes, count: geometry.pieceCount) else {
                return .close(.violation("bitfield of the wrong size or with spare bits set"))
            }
            // BEP 3 puts the bitfield first; aria2 sometimes sends one later. Taking it as a batch
            // of haves is safe and keeps such peers useful.
            return .accept(.has(bits, first: first))
        case .have(let value):
            guard let piece = geometry.piece(value) else { return .close(.violation("have for piece \(value) out of range")) }
            return .accept(.hasPiece(piece))
        case .allowedFast(let index):
            guard supportsFast else { return .close(.violation("allowed fast without the fast extension")) }
            return .accept(geometry.piece(index) != nil ? .allowedFast(index) : .ignored)
        case .reject(let index, let offset, let length):
            guard supportsFast else { return .close(.violation("reject without the fast extension")) }
            guard let block = geometry.request(piece: index, offset: offset, length: length) else {
                return .close(.violation("reject \(index)+\(offset)/\(length) out of bounds"))
            }
            return .accept(.rejected(block))
        case .cancel(let index, let offset, let length):
            return .accept(geometry.request(piece: index, offset: offset, length: length).map { .cancel($0) } ?? .ignored)
        case .piece(let index, let offset, let data):
            guard let block = geometry.request(piece: index, offset: offset, length: data.count) else {
                return .close(.violation("block \(index)+\(offset)/\(data.count) out of bounds"))
            }
            return .accept(.block(block, data: data))
        case .request(let index, let offset, let length):
            return judgeRequest(index, offset, length, context: context)
        }
    }

    private mutating func judgeRequest(_ index: Int, _ offset: Int, _ length: Int, context: Context) -> Verdict {
        guard let block = context.geometry.request(piece: index, offset: offset, length: length) else {
            return .close(.violation("request \(index)+\(offset)/\(length) out of bounds"))
        }
        guard context.serving else { return .accept(.ignored) }
        if amChoking && !allowedFastGiven.contains(index) {
            requestsWhileChoked += 1
            if requestsWhileChoked >= Self.maxRequestsWhileChoked {
                return .close(CloseReason(.flood, "\(Self.maxRequestsWhileChoked) requests while choked"))
            }
            return .accept(.requestWhileChoked(block))
        }
        guard context.have[block.piece] else { return .close(.violation("request for piece \(index), which we do not have")) }
        guard context.queuedUploads < Self.maxQueuedUploads else {
            return .close(CloseReason(.flood, "over \(Self.maxQueuedUploads) requests outstanding"))
        }
        return .accept(.request(block))
    }

    /// We unchoked it: requests from now on are served, and the count of choked ones restarts.
    public mutating func unchoked() {
        amChoking = false
        requestsWhileChoked = 0
    }

    public mutating func choked() { amChoking = true }

    /// A block we asked for arrived: it is not snubbing us.
    public mutating func blockArrived(now: ContinuousClock.Instant) {
        lastBlockAt = now
        isSnubbed = false
    }

    // MARK: Time

    public struct Timeouts: Sendable {
        /// No complete message for this long (keep-alives count): gone, or stuck mid-message.
        public var idle: Duration
        /// Asked for blocks and sent none for this long: snubbing us (anti-snubbing).
        public var snub: Duration

        public init(idle: Duration, snub: Duration) {
            self.idle = idle
            self.snub = snub
        }
    }

    public enum Due: Sendable, Equatable {
        /// It stopped sending blocks we wait for: its requests go to others, one at a time from it.
        case snubbed
        case close(CloseReason)
    }

    /// What time alone decides about the peer at `now`; `waitingOnIt` says we have requests
    /// out to it. Snubbing is reported once, until a block arrives.
    public mutating func tick(now: ContinuousClock.Instant, waitingOnIt: Bool, timeouts: Timeouts) -> Due? {
        if now - lastMessageAt > timeouts.idle { return .close(CloseReason(.timedOut, "no message for \(timeouts.idle)")) }
        if waitingOnIt, !isSnubbed, now - lastBlockAt > timeouts.snub {
            isSnubbed = true
            return .snubbed
        }
        return nil
    }

    // MARK: Opening

    /// What we have, what we speak, for a peer that just completed its handshake, in the order
    /// BEP 6 wants: the have-message first (a bitfield, or have all/none to a fast peer; to a
    /// plain peer nothing when we have nothing), then the extension handshake, then the pieces
    /// it may take while choked, then our DHT port. A super-seed shows no pieces here.
    public static func opening(have: Bitfield, fast: Bool, superSeeding: Bool, extensionHandshake: [UInt8]?,
                               allowedFast: [Int], dhtPort: UInt16?) -> [PeerMessage] {
        var messages: [PeerMessage] = []
        if superSeeding {
            if fast { messages.append(.haveNone) }
        } else if fast {
            messages.append(have.isComplete ? .haveAll : have.isEmpty ? .haveNone : .bitfield(have.bytes))
        } else if !have.isEmpty {
            messages.append(.bitfield(have.bytes))
        }
        if let extensionHandshake { messages.append(.extended(id: 0, payload: extensionHandshake)) }
        if fast && !superSeeding { messages += allowedFast.map { .allowedFast(piece: $0) } }
        if let dhtPort { messages.append(.port(dhtPort)) }
        return messages
    }
}
