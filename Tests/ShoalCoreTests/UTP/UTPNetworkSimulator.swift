import ShoalCore

/// Two uTP connections joined by a simulated path, on a virtual clock: each direction has a
/// one-way delay, jitter, loss, duplication, reordering and optionally a bottleneck (a rate and
/// a drop-tail queue). Every packet goes through the wire codec. Seeded, so a failure repeats.
struct UTPNetworkSimulator {
    struct Path {
        var delay: Duration = .milliseconds(10)
        var jitter: Duration = .zero
        var loss = 0.0
        var duplicate = 0.0
        var reorder = 0.0
        /// Bytes per second through the bottleneck (nil: none).
        var rate: Int?
        /// The bottleneck's queue, as time to drain it: packets that would wait longer are dropped.
        var queueLimit: Duration = .milliseconds(500)
    }

    struct Side {
        var connection: UTPConnection
        var toSend: [UInt8] = []
        var written = 0
        var received: [UInt8] = []
        var ended = false
        var finished = false
        var closed: CloseReason?
        var connected = false
        /// Whether delivered bytes are consumed at once (false: the receive window fills).
        var consuming = true
        var unconsumed = 0
        var closeWhenWritten = true
    }

    struct InFlight {
        var at: ContinuousClock.Instant
        var order: Int
        var toA: Bool
        var bytes: [UInt8]
    }

    var now: ContinuousClock.Instant
    var a: Side
    var b: Side
    var pathAB: Path
    var pathBA: Path
    var rng: SplitMix64
    private var wire: [InFlight] = []
    private var order = 0
    private var bottleneckFree: [Bool: ContinuousClock.Instant] = [:]
    /// Packets put on the wire per direction, and dropped.
    var sent = 0
    var dropped = 0
    /// What the bottleneck queue held when each packet from A joined it (A to B), with the time.
    var queueSamples: [(at: ContinuousClock.Instant, wait: Duration)] = []
    /// Payload bytes that arrived at B, with the time (for rates over time).
    var arrivals: [(at: ContinuousClock.Instant, bytes: Int)] = []

    /// A dials B (B accepts the SYN when it arrives); `aSends` and `bSends` are written once connected.
    init(seed: UInt64, pathAB: Path = Path(), pathBA: Path = Path(), aSends: [UInt8], bSends: [UInt8],
         settings: UTPConnection.Settings = UTPConnection.Settings(), initialSequences: (UInt16, UInt16) = (1, 1)) {
        rng = SplitMix64(seed: seed)
        now = ContinuousClock.now
        self.pathAB = pathAB
        self.pathBA = pathBA
        let (dialer, actions) = UTPConnection.dial(receiveID: UInt16.random(in: 0...UInt16.max, using: &rng),
                                                   initialSequence: initialSequences.0, settings: settings, now: now)
        a = Side(connection: dialer, toSend: aSends)
        // B has no connection until the SYN arrives: a placeholder replaced then.
        b = Side(connection: dialer, toSend: bSends)
        pendingAccept = (initialSequences.1, settings)
        handle(actions, fromA: true)
    }

    private var pendingAccept: (UInt16, UTPConnection.Settings)?

    mutating func put(_ packet: UTPPacket, toA: Bool) {
        let path = toA ? pathBA : pathAB
        sent += 1
        if Double.random(in: 0..<1, using: &rng) < path.loss { dropped += 1; return }
        let bytes = packet.encoded()
        var leaves = now
        if let rate = path.rate {
            let free = max(bottleneckFree[toA] ?? now, now)
            let wait = free - now
            if wait > path.queueLimit { dropped += 1; return }
            if !toA { queueSamples.append((now, wait)) }
            leaves = free + .nanoseconds(Int64(bytes.count + 28) * 1_000_000_000 / Int64(rate))
            bottleneckFree[toA] = leaves
        }
        var arrives = leaves + path.delay
        if path.jitter > .zero { arrives += path.jitter * Double.random(in: 0..<1, using: &rng) }
        if Double.random(in: 0..<1, using: &rng) < path.reorder { arrives += path.delay / 2 + .milliseconds(1) }
        let copies = Double.random(in: 0..<1, using: &rng) < path.duplicate ? 2 : 1
        for _ in 0..<copies {
            order += 1
            // Kept sorted by arrival: found by binary search, inserted there.
            var low = 0
            var high = wire.count
            while low < high {
                let middle = (low + high) / 2
                if (wire[middle].at, wire[middle].order) < (arrives, order) { low = middle + 1 } else { high = middle }
            }
            wire.insert(InFlight(at: arrives, order: order, toA: toA, bytes: bytes), at: low)
        }
    }

    mutating func handle(_ actions: [UTPConnection.Action], fromA: Bool) {
        for action in actions {
            switch action {
            case .send(let packet): put(packet, toA: !fromA)
            case .deliver(let bytes):
                if fromA {
                    a.received += bytes
                    a.unconsumed += bytes.count
                } else {
                    b.received += bytes
                    b.unconsumed += bytes.count
                    arrivals.append((now, bytes.count))
                }
            case .connected: if fromA { a.connected = true } else { b.connected = true }
            case .endOfStream: if fromA { a.ended = true } else { b.ended = true }
            case .finished: if fromA { a.finished = true } else { b.finished = true }
            case .closed(let reason): if fromA { a.closed = reason } else { b.closed = reason }
            }
        }
    }

    /// Feeds the application's bytes in while little is buffered, and consumes what arrived.
    static func pump(_ side: inout Side, now: ContinuousClock.Instant) -> [UTPConnection.Action] {
        var actions: [UTPConnection.Action] = []
        guard side.connected, side.closed == nil else { return actions }
        if side.consuming, side.unconsumed > 0 {
            actions += side.connection.consumed(side.unconsumed, now: now)
            side.unconsumed = 0
        }
        while side.written < side.toSend.count, side.connection.bufferedBytes < 256 << 10 {
            let end = min(side.written + 64 << 10, side.toSend.count)
            actions += side.connection.write(Array(side.toSend[side.written..<end]), now: now)
            side.written = end
        }
        if side.written == side.toSend.count, side.closeWhenWritten { actions += side.connection.close(now: now) }
        return actions
    }

    var done: Bool { (a.finished || a.closed != nil) && (b.finished || b.closed != nil) }

    /// Runs until both sides finished or closed, or `limit` of virtual time passed.
    mutating func run(for limit: Duration, until stop: ((UTPNetworkSimulator) -> Bool)? = nil) {
        let end = now + limit
        var steps = 0
        while now < end, !done, steps < 5_000_000 {
            steps += 1
            if let stop, stop(self) { return }
            var pumped = Self.pump(&a, now: now)
            handle(pumped, fromA: true)
            if pendingAccept == nil {
                pumped = Self.pump(&b, now: now)
                handle(pumped, fromA: false)
            }
            // Everything due now, in arrival order; each side's acks wait for the end of the burst.
            var touched: Set<Bool> = []
            while let first = wire.first, first.at <= now {
                wire.removeFirst()
                guard let packet = try? UTPPacket(decoding: first.bytes) else { continue }
                if first.toA {
                    handle(a.connection.receive(packet, now: now, deferAck: true), fromA: true)
                } else if let (initial, settings) = pendingAccept {
                    guard packet.kind == .syn else { continue }
                    let (accepted, actions) = UTPConnection.accept(packet, initialSequence: initial, settings: settings, now: now)
                    b.connection = accepted
                    pendingAccept = nil
                    handle(actions, fromA: false)
                } else {
                    handle(b.connection.receive(packet, now: now, deferAck: true), fromA: false)
                }
                touched.insert(first.toA)
            }
            if touched.contains(true) { handle(a.connection.flushAck(now: now), fromA: true) }
            if touched.contains(false), pendingAccept == nil { handle(b.connection.flushAck(now: now), fromA: false) }
            for toA in [true, false] {
                if toA, let deadline = a.connection.nextDeadline, deadline <= now { handle(a.connection.tick(now: now), fromA: true) }
                if !toA, pendingAccept == nil, let deadline = b.connection.nextDeadline, deadline <= now {
                    handle(b.connection.tick(now: now), fromA: false)
                }
            }
            if done { return }
            // On to the next thing that happens.
            var next = end
            if let first = wire.first { next = min(next, first.at) }
            if let deadline = a.connection.nextDeadline { next = min(next, deadline) }
            if pendingAccept == nil, let deadline = b.connection.nextDeadline { next = min(next, deadline) }
            // Bytes to feed in: come back soon rather than waiting for a timer.
            let feeding = (a.connected && a.written < a.toSend.count) || (b.connected && b.written < b.toSend.count)
            if feeding { next = min(next, now + .milliseconds(1)) }
            now = max(next, now + .microseconds(1))
        }
    }
}
