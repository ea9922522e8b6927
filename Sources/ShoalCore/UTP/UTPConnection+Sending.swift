/// Our packets: cut from the application's bytes within the windows, retired by acks, resent
/// when three later packets were acked past them or when nothing was acked for a timeout.
extension UTPConnection {
    /// Packets in flight at most: half the sequence space would make "before" ambiguous.
    static let maxOutstanding = 0x3FFF

    var unackedCount: Int { outstanding.count - head }

    /// Retires what `packet` acknowledges, cumulatively and selectively; samples the round trip
    /// and the delay; spots losses.
    mutating func acknowledged(by packet: UTPPacket, now: ContinuousClock.Instant) {
        let queueing = packet.timestampDifference == 0 ? nil : congestion.delay(sample: packet.timestampDifference, now: now)
        guard head < outstanding.count else { return }
        let newestSent = nextSequence &- 1
        let flightBefore = bytesInFlight
        var ackedBytes = 0
        var progressed = false
        let oldest = outstanding[head].sequence
        // Distances from the oldest, not "before": exactly half the sequence space away is
        // neither before nor after, and a fuzzed ack there ran past the packets in flight.
        let span = UTPSequence.distance(from: oldest, to: newestSent)
        if UTPSequence.distance(from: oldest, to: packet.ack) <= span {
            let count = UTPSequence.distance(from: oldest, to: packet.ack) + 1
            for index in head..<head + count { ackedBytes += retire(index, now: now) }
            head += count
            lastAck = packet.ack
            duplicateAcks = 0
            progressed = true
        } else if packet.ack == lastAck, packet.kind == .state, !outstanding[head].acked {
            duplicateAcks += 1
            if duplicateAcks == 3 { markLost(head) }
        }
        if packet.selectiveAck != nil, head < outstanding.count {
            let first = outstanding[head].sequence
            var furthest = head - 1
            let span = UTPSequence.distance(from: first, to: newestSent)
            for sequence in packet.selectivelyAcked where UTPSequence.distance(from: first, to: sequence) <= span {
                let index = head + UTPSequence.distance(from: first, to: sequence)
                guard !outstanding[index].acked else { continue }
                ackedBytes += retire(index, now: now)
                furthest = max(furthest, index)
                progressed = true
            }
            // A packet sent once with three acked after it is lost (resent ones wait for the timer).
            var ackedAfter = 0
            var index = furthest
            while index >= head {
                if outstanding[index].acked {
                    ackedAfter += 1
                } else if ackedAfter >= 3, !outstanding[index].lost, outstanding[index].transmissions == 1 {
                    markLost(index)
                }
                index -= 1
            }
        }
        while head < outstanding.count, outstanding[head].acked { head += 1 }
        if head > 1_024, head * 2 > outstanding.count {
            outstanding.removeFirst(head)
            head = 0
        }
        guard progressed else { return }
        congestion.acked(bytes: ackedBytes, queueing: queueing ?? 0, windowFull: flightBefore + settings.packetSize > congestion.window)
        roundTrip.progressed()
        timeouts = 0
        retransmitAt = head < outstanding.count ? now + roundTrip.timeout : nil
    }

    /// Marks one packet acknowledged: its bytes leave the flight, its round trip is sampled if
    /// it was sent once. Returns its payload size.
    private mutating func retire(_ index: Int, now: ContinuousClock.Instant) -> Int {
        guard !outstanding[index].acked else { return 0 }
        outstanding[index].acked = true
        let size = outstanding[index].payload.count
        if outstanding[index].lost {
            lostCount -= 1
        } else {
            bytesInFlight -= size
        }
        outstanding[index].lost = false
        if outstanding[index].transmissions == 1 { roundTrip.sample(now - outstanding[index].sentAt) }
        outstanding[index].payload = []
        return size
    }

    private mutating func markLost(_ index: Int) {
        guard !outstanding[index].lost, !outstanding[index].acked else { return }
        outstanding[index].lost = true
        lostCount += 1
        bytesInFlight -= outstanding[index].payload.count
        // One halving per window: later losses of packets sent before it are the same event.
        if recoveryUntil.map({ UTPSequence.precedes($0, outstanding[index].sequence) }) ?? true {
            congestion.lost()
            recoveryUntil = nextSequence &- 1
        }
    }

    /// Resends lost packets, then sends new ones, then the FIN, as far as the windows allow.
    /// With nothing in flight, a packet is cut to fit a peer window smaller than a packet; a
    /// closed one (`probe`, from the timer) gets a single byte to learn whether it opened.
    mutating func sendMore(now: ContinuousClock.Instant, into actions: inout [Action], probe: Bool = false) {
        guard state == .connected else { return }
        let limit = min(congestion.window, peerWindow)
        // Lost packets are looked for only when there are some: a scan of the whole flight per
        // ack would cost a transfer time quadratic in its window.
        var index = lostCount > 0 ? head : outstanding.count
        while index < outstanding.count, lostCount > 0 {
            if outstanding[index].lost {
                let size = outstanding[index].payload.count
                guard bytesInFlight == 0 || bytesInFlight + size <= limit else { return }
                outstanding[index].lost = false
                lostCount -= 1
                outstanding[index].transmissions += 1
                outstanding[index].sentAt = now
                bytesInFlight += size
                let sent = outstanding[index]
                transmit(sent.kind, sequence: sent.sequence, payload: sent.payload, now: now, into: &actions)
            }
            index += 1
        }
        var probing = probe
        while !pending.isEmpty, unackedCount < Self.maxOutstanding {
            var size = min(settings.packetSize, pending.count)
            if bytesInFlight + size > limit {
                if bytesInFlight == 0, peerWindow > 0 {
                    size = min(size, peerWindow)
                } else if bytesInFlight == 0, probing {
                    size = 1
                    probing = false
                } else {
                    // A closed window: probe it after a timeout.
                    if peerWindow < settings.packetSize, retransmitAt == nil { retransmitAt = now + roundTrip.timeout }
                    return
                }
            }
            let payload = pending.take(size)
            outstanding.append(Outstanding(sequence: nextSequence, kind: .data, payload: payload, sentAt: now))
            bytesInFlight += size
            transmit(.data, sequence: nextSequence, payload: payload, now: now, into: &actions)
            nextSequence &+= 1
        }
        if finRequested, pending.isEmpty, finSequence == nil {
            finSequence = nextSequence
            outstanding.append(Outstanding(sequence: nextSequence, kind: .fin, payload: [], sentAt: now))
            transmit(.fin, sequence: nextSequence, payload: [], now: now, into: &actions)
            nextSequence &+= 1
        }
    }

    private mutating func transmit(_ kind: UTPPacket.Kind, sequence: UInt16, payload: [UInt8], now: ContinuousClock.Instant,
                                   into actions: inout [Action]) {
        let packet = UTPPacket(kind: kind, connectionID: kind == .syn ? receiveID : sendID, timestamp: micros(now),
                               timestampDifference: replyDifference, window: advertisedWindow, sequence: sequence,
                               ack: kind == .syn ? 0 : ackedThrough, selectiveAck: kind == .syn ? nil : selectiveAckMask(), payload: payload)
        actions.append(.send(packet))
        ackPending = false
        lastSent = now
        if retransmitAt == nil { retransmitAt = now + roundTrip.timeout }
    }

    /// The retransmission timer fired.
    mutating func timedOut(now: ContinuousClock.Instant, into actions: inout [Action]) {
        guard outstanding[head...].contains(where: { !$0.acked }) else {
            retransmitAt = nil
            // A closed window: send one packet to learn whether it opened.
            if peerWindow < settings.packetSize, !pending.isEmpty {
                sendMore(now: now, into: &actions, probe: true)
                retransmitAt = now + probeInterval
            }
            return
        }
        let windowClosed = state == .connected && peerWindow < settings.packetSize
        // Unanswered packets into a closed window are probes the peer dropped, not a dead path
        // (the idle timeout still ends a peer that stopped answering at all).
        if !windowClosed { timeouts += 1 }
        let onlyFin = unackedCount == 1 && outstanding[head].kind == .fin
        let limit = state == .synSent ? settings.synResends : onlyFin ? settings.finResends : settings.maxResends
        guard timeouts <= limit else {
            actions.append(.closed(state == .synSent
                ? CloseReason(.connectFailed, "no answer to the uTP SYN")
                : CloseReason(.timedOut, "uTP packet unacknowledged after \(limit) resends")))
            state = .closed
            return
        }
        if state == .synSent {
            // The SYN again, a second apart (libtorrent's pace): about three seconds before the
            // caller falls back to TCP.
            outstanding[head].transmissions += 1
            let syn = UTPPacket(kind: .syn, connectionID: receiveID, timestamp: micros(now), window: advertisedWindow,
                                sequence: outstanding[head].sequence, ack: 0)
            actions.append(.send(syn))
            retransmitAt = now + UTPRoundTrip.initialTimeout
            return
        }
        // Into a closed window, the oldest goes again as a probe, at most a second apart: the
        // window update that would reopen it may have been lost, and a timeout doubled per
        // probe stalled a transfer for a minute (seen against libtorrent through a lossy relay).
        if windowClosed {
            if !outstanding[head].acked, !outstanding[head].lost {
                outstanding[head].lost = true
                lostCount += 1
                bytesInFlight -= outstanding[head].payload.count
            }
            retransmitAt = nil
            sendMore(now: now, into: &actions)
            retransmitAt = now + probeInterval
            return
        }
        roundTrip.timedOut()
        congestion.timedOut()
        for index in head..<outstanding.count where !outstanding[index].acked && !outstanding[index].lost {
            outstanding[index].lost = true
            lostCount += 1
            bytesInFlight -= outstanding[index].payload.count
        }
        recoveryUntil = nextSequence &- 1
        retransmitAt = nil
        sendMore(now: now, into: &actions)
        retransmitAt = now + roundTrip.timeout
    }

    /// How often a closed window is probed: the retransmission timeout, at most a second.
    var probeInterval: Duration { min(roundTrip.timeout, .seconds(1)) }

    /// Both directions done: our FIN acknowledged and the peer's received. The ack the peer
    /// is owed goes out first, deferred or not.
    mutating func finishIfDone(now: ContinuousClock.Instant, into actions: inout [Action]) {
        guard state == .connected, finSequence != nil, head == outstanding.count, receivedEnd else { return }
        if ackPending {
            actions.append(.send(statePacket(now: now)))
            ackPending = false
        }
        state = .closed
        finishedCleanly = true
        actions.append(.finished)
    }
}
