/// Packets from the peer: the handshake's answer, acks, data in order and out of it, FIN and
/// RESET; and the timers (`tick`).
extension UTPConnection {
    /// Packets further ahead than this are dropped rather than held (a liar cannot make us hold
    /// the whole sequence space).
    static let reorderLimit = 4_096
    /// The selective ACK covers at most this many packets past the first gap.
    static let selectiveAckBytes = 32

    /// Takes one packet addressed to this connection (by its `receiveID`). With `deferAck` the
    /// ack it calls for waits for `flushAck` (the caller drains a burst of datagrams first).
    public mutating func receive(_ packet: UTPPacket, now: ContinuousClock.Instant, deferAck: Bool = false) -> [Action] {
        guard state != .closed else {
            // Finished, our last ack may have been lost: the peer's resent FIN (or data) is
            // acknowledged again while the caller keeps the connection around.
            guard finishedCleanly, packet.kind == .fin || packet.kind == .data else { return [] }
            return [.send(statePacket(now: now))]
        }
        var actions: [Action] = []
        if packet.kind == .reset {
            state = .closed
            return [.closed(CloseReason(.closedByPeer, "uTP reset"))]
        }
        lastReceived = now
        replyDifference = micros(now) &- packet.timestamp
        if packet.kind == .syn, state != .synSent {
            // Our STATE was lost (or the SYN was sent twice): the one we accepted is answered again.
            if packet.sequence == acceptedSyn { actions.append(.send(statePacket(now: now))) }
            return actions
        }
        switch state {
        case .synSent:
            // Only the STATE answering our SYN tells where the peer's sequence starts (its data
            // carries the same number as its first packet); data that overtook it is dropped
            // and comes again.
            guard packet.kind == .state, packet.ack == outstanding[head].sequence else { return [] }
            ackedThrough = packet.sequence &- 1
            state = .connected
            actions.append(.connected)
        case .synReceived:
            // The dialler's first packet after our STATE: it knows where our sequence starts.
            state = .connected
        case .connected:
            break
        case .closed:
            return []
        }
        peerWindow = Int(packet.window)
        acknowledged(by: packet, now: now)
        switch packet.kind {
        case .data: received(packet.sequence, packet.payload, into: &actions)
        case .fin: receivedFin(packet.sequence, into: &actions)
        case .state, .syn, .reset: break
        }
        sendMore(now: now, into: &actions)
        if !deferAck { actions += flushAck(now: now) }
        finishIfDone(now: now, into: &actions)
        return actions
    }

    /// The ack a burst of received packets called for, if sending data has not carried it.
    public mutating func flushAck(now: ContinuousClock.Instant) -> [Action] {
        guard ackPending, state == .connected else { return [] }
        ackPending = false
        lastSent = now
        return [.send(statePacket(now: now))]
    }

    private mutating func received(_ sequence: UInt16, _ payload: [UInt8], into actions: inout [Action]) {
        ackPending = true
        guard UTPSequence.precedes(ackedThrough, sequence) else { return }  // seen already: acked again
        if let fin = peerFinSequence, !UTPSequence.precedes(sequence, fin) { return }  // past the peer's end
        let ahead = UTPSequence.distance(from: ackedThrough, to: sequence)
        // Past our window (a probe, or a sender that ignored it): dropped, and the ack says why.
        guard unconsumed + reorderedBytes + payload.count <= settings.receiveBuffer else { return }
        if ahead == 1 {
            ackedThrough = sequence
            var delivered = payload
            while let next = reordered.removeValue(forKey: ackedThrough &+ 1) {
                reorderedBytes -= next.count
                delivered += next
                ackedThrough &+= 1
            }
            unconsumed += delivered.count
            if !delivered.isEmpty { actions.append(.deliver(delivered)) }
            reachedFin(into: &actions)
        } else if ahead <= Self.reorderLimit, reordered[sequence] == nil {
            reordered[sequence] = payload
            reorderedBytes += payload.count
        }
    }

    private mutating func receivedFin(_ sequence: UInt16, into actions: inout [Action]) {
        ackPending = true
        guard peerFinSequence == nil, UTPSequence.precedes(ackedThrough, sequence) else { return }
        peerFinSequence = sequence
        // Anything held past the end is not part of the stream.
        for key in reordered.keys where !UTPSequence.precedes(key, sequence) {
            reorderedBytes -= reordered.removeValue(forKey: key)?.count ?? 0
        }
        reachedFin(into: &actions)
    }

    /// Everything up to the peer's FIN is here: the stream ends.
    private mutating func reachedFin(into actions: inout [Action]) {
        guard let fin = peerFinSequence, !receivedEnd, ackedThrough &+ 1 == fin else { return }
        ackedThrough = fin
        receivedEnd = true
        actions.append(.endOfStream)
    }

    /// Bit i: packet `ackedThrough + 2 + i` is held.
    func selectiveAckMask() -> [UInt8]? {
        guard !reordered.isEmpty else { return nil }
        var mask = [UInt8](repeating: 0, count: Self.selectiveAckBytes)
        var highest = -1
        for sequence in reordered.keys {
            let bit = UTPSequence.distance(from: ackedThrough &+ 2, to: sequence)
            guard bit < Self.selectiveAckBytes * 8 else { continue }
            mask[bit / 8] |= 1 << (bit % 8)
            highest = max(highest, bit)
        }
        guard highest >= 0 else { return nil }
        return Array(mask.prefix((highest / 32 + 1) * 4))
    }

    /// Timeouts: resends, keep-alives and giving up on a silent peer.
    public mutating func tick(now: ContinuousClock.Instant) -> [Action] {
        guard state != .closed else { return [] }
        var actions: [Action] = []
        if now - lastReceived >= settings.idleTimeout {
            state = .closed
            return [.closed(CloseReason(.timedOut, "no uTP packet for \(settings.idleTimeout)"))]
        }
        if let retransmitAt, now >= retransmitAt {
            timedOut(now: now, into: &actions)
            if state == .closed { return actions }
        }
        if state == .connected, now - lastSent >= settings.keepAlive {
            actions.append(.send(statePacket(now: now)))
            lastSent = now
        }
        return actions
    }
}
