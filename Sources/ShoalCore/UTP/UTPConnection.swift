/// One uTP connection (BEP 29) as a pure state machine: datagrams, the application's bytes and
/// the clock go in, datagrams to send and bytes to deliver come out. The UDP socket, its timers
/// and the peer protocol above it live at the edge (the engine).
///
/// Sending: the application's bytes are cut into packets of `packetSize` bytes, as many in
/// flight as the smaller of LEDBAT's window and the peer's receive window; acks (cumulative and
/// selective) retire them, a packet three acks have passed is resent at once (fast retransmit),
/// and a timeout resends the oldest with the window at one packet. Receiving: packets are
/// delivered in order, later ones held (up to the receive buffer) and reported by selective ACK.
public struct UTPConnection: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Payload bytes per packet: about what fits the internet's usual 1,500-byte MTU after
        /// IP, UDP and uTP headers, never the loopback's 64 KiB.
        public var packetSize = 1_400
        /// Bytes held for the application (out of order, or delivered and not yet consumed).
        public var receiveBuffer = 1 << 20
        /// Timeouts in a row before the connection is given up: for data (doubling from half a
        /// second, about 30 s on a fast path: more patient than libtorrent's three on a lossy
        /// one), for the SYN (about three seconds, then the caller falls back to TCP) and for
        /// the FIN.
        public var maxResends = 6
        public var synResends = 2
        public var finResends = 2
        /// The congestion window at the start, in packets (RFC 6817's two).
        public var initialWindowPackets = 2
        public var keepAlive: Duration = .seconds(29)
        public var idleTimeout: Duration = .seconds(60)

        public init() {}
    }

    public enum State: Sendable, Equatable {
        /// We dialled; waiting for the STATE that answers our SYN.
        case synSent
        /// We answered a SYN; waiting for the dialler's first packet before sending data: only
        /// the STATE tells it where our sequence starts, and a later one would say it wrongly.
        case synReceived
        case connected, closed
    }

    public enum Action: Sendable, Equatable {
        case send(UTPPacket)
        /// Bytes of the stream, in order. The receive window stays smaller until they are
        /// `consumed`.
        case deliver([UInt8])
        case connected
        /// The peer finished sending (its FIN and everything before it arrived).
        case endOfStream
        /// Both directions finished and acknowledged.
        case finished
        /// Reset, timed out or refused: nothing more will be sent or delivered.
        case closed(CloseReason)
    }

    public let settings: Settings
    /// The id packets to us carry, and the id ours carry.
    public let receiveID: UInt16
    public let sendID: UInt16
    public internal(set) var state: State
    /// The origin of our microsecond timestamps.
    let epoch: ContinuousClock.Instant

    // Sending.
    var nextSequence: UInt16
    var outstanding: [Outstanding] = []
    var head = 0
    var pending = ByteQueue()
    public internal(set) var bytesInFlight = 0
    var peerWindow: Int
    var duplicateAcks = 0
    var lastAck: UInt16
    /// No second halving for losses within the window that was in flight at the first.
    var recoveryUntil: UInt16?
    /// Packets marked lost and not yet resent.
    var lostCount = 0
    var finRequested = false
    var finSequence: UInt16?
    public internal(set) var congestion: LEDBATController
    public internal(set) var roundTrip = UTPRoundTrip()
    var retransmitAt: ContinuousClock.Instant?
    var timeouts = 0

    // Receiving.
    var ackedThrough: UInt16
    var reordered: [UInt16: [UInt8]] = [:]
    var reorderedBytes = 0
    var unconsumed = 0
    var peerFinSequence: UInt16?
    public internal(set) var receivedEnd = false
    var ackPending = false
    var replyDifference: UInt32 = 0
    var lastReceived: ContinuousClock.Instant
    var lastSent: ContinuousClock.Instant
    /// The SYN we acknowledged (a responder's), answered again if it comes again.
    var acceptedSyn: UInt16?
    /// Ended by FINs both ways (not a reset or a timeout): resent FINs are still acknowledged.
    public internal(set) var finishedCleanly = false

    struct Outstanding: Sendable {
        var sequence: UInt16
        var kind: UTPPacket.Kind
        var payload: [UInt8]
        var sentAt: ContinuousClock.Instant
        var transmissions = 1
        var acked = false
        var lost = false
    }

    private init(settings: Settings, receiveID: UInt16, sendID: UInt16, state: State, nextSequence: UInt16, ackedThrough: UInt16,
                 now: ContinuousClock.Instant) {
        self.settings = settings
        self.receiveID = receiveID
        self.sendID = sendID
        self.state = state
        self.epoch = now
        self.nextSequence = nextSequence
        self.lastAck = nextSequence &- 1
        self.ackedThrough = ackedThrough
        self.peerWindow = settings.packetSize
        self.congestion = LEDBATController(packetSize: settings.packetSize, initialPackets: settings.initialWindowPackets)
        self.lastReceived = now
        self.lastSent = now
    }

    /// Opens a connection: the SYN carries `receiveID`, our packets `receiveID + 1`.
    public static func dial(receiveID: UInt16, initialSequence: UInt16, settings: Settings = Settings(),
                            now: ContinuousClock.Instant) -> (UTPConnection, [Action]) {
        var connection = UTPConnection(settings: settings, receiveID: receiveID, sendID: receiveID &+ 1, state: .synSent,
                                       nextSequence: initialSequence &+ 1, ackedThrough: 0, now: now)
        connection.outstanding = [Outstanding(sequence: initialSequence, kind: .syn, payload: [], sentAt: now)]
        connection.retransmitAt = now + UTPRoundTrip.initialTimeout
        let syn = UTPPacket(kind: .syn, connectionID: receiveID, timestamp: connection.micros(now), window: connection.advertisedWindow,
                            sequence: initialSequence, ack: 0)
        return (connection, [.send(syn)])
    }

    /// Answers a peer's SYN: its id + 1 is ours to receive on, its id ours to send with.
    public static func accept(_ syn: UTPPacket, initialSequence: UInt16, settings: Settings = Settings(),
                              now: ContinuousClock.Instant) -> (UTPConnection, [Action]) {
        var connection = UTPConnection(settings: settings, receiveID: syn.connectionID &+ 1, sendID: syn.connectionID, state: .synReceived,
                                       nextSequence: initialSequence, ackedThrough: syn.sequence, now: now)
        connection.acceptedSyn = syn.sequence
        connection.peerWindow = Int(syn.window)
        connection.replyDifference = connection.micros(now) &- syn.timestamp
        return (connection, [.send(connection.statePacket(now: now)), .connected])
    }

    /// Our clock for timestamps, in microseconds, wrapping.
    func micros(_ now: ContinuousClock.Instant) -> UInt32 {
        let elapsed = (now - epoch).components
        return UInt32(truncatingIfNeeded: elapsed.seconds &* 1_000_000 &+ elapsed.attoseconds / 1_000_000_000_000)
    }

    /// Bytes we can still take in: the receive buffer less what is held.
    var advertisedWindow: UInt32 { UInt32(max(0, settings.receiveBuffer - reorderedBytes - unconsumed)) }

    /// Bytes written and not yet sent (the caller stops reading its side above some amount).
    public var bufferedBytes: Int { pending.count }

    /// The application took `count` delivered bytes: the window opens again (and the peer is
    /// told at once if it had closed).
    public mutating func consumed(_ count: Int, now: ContinuousClock.Instant) -> [Action] {
        let wasClosed = advertisedWindow < UInt32(settings.packetSize)
        unconsumed = max(0, unconsumed - count)
        guard state == .connected, wasClosed, advertisedWindow >= UInt32(settings.packetSize) else { return [] }
        return [.send(statePacket(now: now))]
    }

    /// Queues bytes to send and sends what the windows allow.
    public mutating func write(_ bytes: [UInt8], now: ContinuousClock.Instant) -> [Action] {
        guard state != .closed, !finRequested, !bytes.isEmpty else { return [] }
        pending.append(bytes)
        var actions: [Action] = []
        sendMore(now: now, into: &actions)
        return actions
    }

    /// Finishes our direction: a FIN after the bytes already written.
    public mutating func close(now: ContinuousClock.Instant) -> [Action] {
        guard state != .closed, !finRequested else { return [] }
        finRequested = true
        var actions: [Action] = []
        sendMore(now: now, into: &actions)
        finishIfDone(now: now, into: &actions)
        return actions
    }

    /// Ends the connection at once, telling the peer.
    public mutating func reset(now: ContinuousClock.Instant) -> [Action] {
        guard state != .closed else { return [] }
        state = .closed
        let packet = UTPPacket(kind: .reset, connectionID: sendID, timestamp: micros(now), sequence: nextSequence, ack: ackedThrough)
        return [.send(packet)]
    }

    /// When `tick` next has something to do.
    public var nextDeadline: ContinuousClock.Instant? {
        guard state != .closed else { return nil }
        var deadline = lastReceived + settings.idleTimeout
        if state == .connected { deadline = min(deadline, lastSent + settings.keepAlive) }
        if let retransmitAt { deadline = min(deadline, retransmitAt) }
        return deadline
    }

    /// A STATE packet: our acks, window and delay echo, no sequence number used.
    func statePacket(now: ContinuousClock.Instant) -> UTPPacket {
        UTPPacket(kind: .state, connectionID: sendID, timestamp: micros(now), timestampDifference: replyDifference,
                  window: advertisedWindow, sequence: nextSequence, ack: ackedThrough, selectiveAck: selectiveAckMask())
    }
}

/// Bytes waiting to be cut into packets: the writes as they came, taken from the front.
struct ByteQueue: Sendable {
    private var chunks: [[UInt8]] = []
    private var first = 0
    private var offset = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func append(_ bytes: [UInt8]) {
        chunks.append(bytes)
        count += bytes.count
    }

    mutating func take(_ wanted: Int) -> [UInt8] {
        var taken: [UInt8] = []
        taken.reserveCapacity(min(wanted, count))
        while taken.count < wanted, first < chunks.count {
            let chunk = chunks[first]
            let part = min(wanted - taken.count, chunk.count - offset)
            taken += chunk[offset..<offset + part]
            offset += part
            if offset == chunk.count {
                first += 1
                offset = 0
            }
        }
        count -= taken.count
        if first > 64 && first * 2 > chunks.count {
            chunks.removeFirst(first)
            first = 0
        }
        return taken
    }
}
