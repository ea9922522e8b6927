import ShoalCore
import Testing

/// The uTP connection state machine driven by hand, packet by packet, on a virtual clock: the
/// handshake and its duplicates, selective ACK and fast retransmit, timeouts, FIN in either
/// order, RESET, and giving up.
@Suite("uTP connection")
struct UTPConnectionTests {
    static let start = ContinuousClock.now

    static func packets(_ actions: [UTPConnection.Action]) -> [UTPPacket] {
        actions.compactMap { if case .send(let packet) = $0 { packet } else { nil } }
    }

    static func delivered(_ actions: [UTPConnection.Action]) -> [UInt8] {
        actions.flatMap { action -> [UInt8] in
            guard case .deliver(let bytes) = action else { return [] }
            return bytes
        }
    }

    static func settings(packetSize: Int = 100, window: Int = 8) -> UTPConnection.Settings {
        var settings = UTPConnection.Settings()
        settings.packetSize = packetSize
        settings.initialWindowPackets = window
        return settings
    }

    /// A dialled B: A's SYN (receive id 100, sequence 500), B's STATE (sequence 9000).
    static func pair(_ settings: UTPConnection.Settings = settings(), at now: ContinuousClock.Instant = start)
        -> (a: UTPConnection, b: UTPConnection) {
        var (a, dialled) = UTPConnection.dial(receiveID: 100, initialSequence: 500, settings: settings, now: now)
        let (b, answer) = UTPConnection.accept(packets(dialled)[0], initialSequence: 9000, settings: settings, now: now)
        _ = a.receive(packets(answer)[0], now: now + .milliseconds(20))
        return (a, b)
    }

    @Test func theHandshakeSetsIdsAndSequenceNumbers() throws {
        var (a, dialled) = UTPConnection.dial(receiveID: 100, initialSequence: 500, now: Self.start)
        let syn = try #require(Self.packets(dialled).first)
        #expect(syn.kind == .syn && syn.connectionID == 100 && syn.sequence == 500 && a.state == .synSent)
        var (b, answer) = UTPConnection.accept(syn, initialSequence: 9000, now: Self.start)
        let state = try #require(Self.packets(answer).first)
        #expect(state.kind == .state && state.connectionID == 100 && state.sequence == 9000 && state.ack == 500)
        #expect(answer.contains(.connected) && b.receiveID == 101 && b.sendID == 100)
        #expect(a.receive(state, now: Self.start + .milliseconds(30)).contains(.connected) && a.state == .connected)
        #expect(a.receiveID == 100 && a.sendID == 101 && a.roundTrip.smoothed == .milliseconds(30))
        let data = try #require(Self.packets(a.write(Array("hello".utf8), now: Self.start + .milliseconds(31))).first)
        #expect(data.kind == .data && data.connectionID == 101 && data.sequence == 501 && data.ack == 8999)
        let received = b.receive(data, now: Self.start + .milliseconds(40))
        #expect(Self.delivered(received) == Array("hello".utf8))
        #expect(Self.packets(received).map(\.ack) == [501])
    }

    /// A SYN that comes again (our STATE was lost, or the network doubled it) is answered again,
    /// the same way; another SYN on the connection's id is ignored.
    @Test func aDuplicatedSynIsAnsweredAgain() throws {
        let (_, dialled) = UTPConnection.dial(receiveID: 7, initialSequence: 40, now: Self.start)
        let syn = Self.packets(dialled)[0]
        var (b, answer) = UTPConnection.accept(syn, initialSequence: 300, now: Self.start)
        let again = Self.packets(b.receive(syn, now: Self.start + .milliseconds(900)))
        #expect(again.count == 1 && again[0].kind == .state && again[0].sequence == Self.packets(answer)[0].sequence && again[0].ack == 40)
        var other = syn
        other.sequence = 41
        #expect(b.receive(other, now: Self.start + .seconds(1)).isEmpty && b.state == .synReceived)
    }

    /// The answering side sends no data before the dialler's first packet: only its STATE says
    /// where its sequence starts (its first data would carry the same number), so data that
    /// overtook a lost STATE would be misread. A SYN sent again meanwhile gets the same STATE.
    @Test func theAnsweringSideWaitsForTheDiallersFirstPacket() throws {
        var (a, dialled) = UTPConnection.dial(receiveID: 7, initialSequence: 40, settings: Self.settings(), now: Self.start)
        let syn = Self.packets(dialled)[0]
        var (b, answer) = UTPConnection.accept(syn, initialSequence: 300, settings: Self.settings(), now: Self.start)
        #expect(b.state == .synReceived && b.write([1, 2, 3], now: Self.start).isEmpty)
        let again = Self.packets(b.receive(syn, now: Self.start + .seconds(1)))
        #expect(again == Self.packets(answer).map { var state = $0; state.timestamp = again.first?.timestamp ?? 0; state.timestampDifference = again.first?.timestampDifference ?? 0; return state })
        #expect(a.receive(again[0], now: Self.start + .seconds(1)).contains(.connected))
        let hello = Self.packets(a.write([9], now: Self.start + .seconds(1)))
        let reply = b.receive(hello[0], now: Self.start + .seconds(1))
        #expect(Self.delivered(reply) == [9] && b.state == .connected)
        let data = Self.packets(reply).filter { $0.kind == .data }
        #expect(data.map(\.sequence) == [300] && data.first?.payload == [1, 2, 3])
        #expect(Self.delivered(a.receive(data[0], now: Self.start + .seconds(1))) == [1, 2, 3])
    }

    /// Packet 501 is lost; B holds 502–505 and says so by selective ACK. After three such acks A
    /// resends 501 at once (no timer), halves its window, and B delivers everything in order.
    @Test func selectiveAcksTriggerAFastRetransmit() throws {
        var (a, b) = Self.pair(Self.settings(packetSize: 1_400))
        let now = Self.start + .seconds(1)
        let bytes = (0..<8 * 1_400).map { UInt8(truncatingIfNeeded: $0) }
        let sent = Self.packets(a.write(bytes, now: now))
        #expect(sent.map(\.sequence) == Array(501...508))
        let windowBefore = a.congestion.window
        var acks: [UTPPacket] = []
        for packet in sent[1...4] { acks += Self.packets(b.receive(packet, now: now + .milliseconds(10))) }
        #expect(acks.allSatisfy { $0.ack == 500 } && acks.last?.selectivelyAcked == [502, 503, 504, 505])
        var resent: [UTPPacket] = []
        for (index, ack) in acks.enumerated() {
            resent += Self.packets(a.receive(ack, now: now + .milliseconds(20))).filter { $0.sequence == 501 }
            // Not before the third ack that passes it.
            if index < 2 { #expect(resent.isEmpty) }
        }
        #expect(resent.count == 1 && resent[0].payload == Array(bytes[0..<1_400]))
        #expect(a.congestion.window < windowBefore && !a.congestion.slowStart, "\(a.congestion.window) \(windowBefore)")
        var received = Self.delivered(b.receive(resent[0], now: now + .milliseconds(30)))
        for packet in sent[5...] { received += Self.delivered(b.receive(packet, now: now + .milliseconds(31))) }
        #expect(received == bytes)
    }

    /// Nothing acknowledged: the oldest packet goes again after the timeout with the window at
    /// one packet, the timeout doubling; after six resends the connection gives up, saying why.
    @Test func timeoutsResendTheOldestThenGiveUp() throws {
        var (a, _) = Self.pair()
        var now = Self.start + .seconds(1)
        let sent = Self.packets(a.write([UInt8](repeating: 7, count: 500), now: now))
        #expect(sent.count == 5)
        var gaps: [Duration] = []
        var last = now
        while a.state != .closed, now < Self.start + .seconds(120) {
            guard let deadline = a.nextDeadline else { break }
            now = deadline
            let actions = a.tick(now: now)
            let resent = Self.packets(actions)
            if !resent.isEmpty {
                #expect(resent.map(\.sequence) == [501], "one packet: the window is one")
                gaps.append(now - last)
                last = now
            }
            if case .closed(let reason)? = actions.last {
                #expect(reason.kind == .timedOut, "\(reason)")
            }
        }
        #expect(a.state == .closed && gaps.count == 6)
        #expect(zip(gaps, gaps.dropFirst()).allSatisfy { $1 == $0 * 2 }, "\(gaps)")
    }

    /// A's FIN arrives before its data (reordered): B delivers the bytes in order, then the end of
    /// the stream once; B finishes too, and both see the connection finished.
    @Test func aFinBeforeItsDataStillEndsTheStreamInOrder() throws {
        var (a, b) = Self.pair()
        let now = Self.start + .seconds(1)
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0 * 7) }
        var sent = Self.packets(a.write(bytes, now: now))
        sent += Self.packets(a.close(now: now))
        #expect(sent.map(\.kind) == [.data, .data, .data, .fin])
        var received: [UInt8] = []
        var ends = 0
        var acksToA: [UTPPacket] = []
        for packet in sent.reversed() {
            let actions = b.receive(packet, now: now + .milliseconds(5))
            received += Self.delivered(actions)
            ends += actions.filter { $0 == .endOfStream }.count
            acksToA += Self.packets(actions)
        }
        #expect(received == bytes && ends == 1 && b.receivedEnd)
        var aActions: [UTPConnection.Action] = []
        for ack in acksToA { aActions += a.receive(ack, now: now + .milliseconds(10)) }
        let finFromB = Self.packets(b.close(now: now + .milliseconds(11)))
        #expect(finFromB.map(\.kind) == [.fin])
        aActions = a.receive(finFromB[0], now: now + .milliseconds(15))
        #expect(aActions.contains(.endOfStream) && aActions.contains(.finished) && a.state == .closed)
        let bActions = b.receive(Self.packets(aActions)[0], now: now + .milliseconds(20))
        #expect(bActions.contains(.finished) && b.state == .closed)
    }

    @Test func aResetClosesAtOnceWithTheReason() throws {
        var (a, b) = Self.pair()
        let reset = Self.packets(b.reset(now: Self.start + .seconds(1)))
        #expect(reset.map(\.kind) == [.reset] && reset[0].connectionID == a.receiveID && b.state == .closed)
        #expect(a.receive(reset[0], now: Self.start + .seconds(1)) == [.closed(CloseReason(.closedByPeer, "uTP reset"))])
        #expect(a.state == .closed && a.write([1], now: Self.start + .seconds(2)).isEmpty)
    }

    /// No answer to the SYN: two resends a second apart, then `connectFailed` (the caller's cue to
    /// dial TCP instead) three seconds after the first.
    @Test func anUnansweredSynGivesUpAfterThreeSeconds() throws {
        var (a, _) = UTPConnection.dial(receiveID: 1, initialSequence: 1, now: Self.start)
        var synTimes: [Duration] = []
        var closedAt: Duration?
        while a.state != .closed, let deadline = a.nextDeadline {
            let actions = a.tick(now: deadline)
            if Self.packets(actions).contains(where: { $0.kind == .syn }) { synTimes.append(deadline - Self.start) }
            if case .closed(let reason)? = actions.last {
                #expect(reason.kind == .connectFailed)
                closedAt = deadline - Self.start
            }
        }
        #expect(synTimes == [.seconds(1), .seconds(2)] && closedAt == .seconds(3))
    }

    /// A silent peer: keep-alives every 29 s, then closed with the reason after 60 s of nothing.
    @Test func aSilentPeerIsKeptAliveThenTimedOut() throws {
        var (a, _) = Self.pair()
        var keepAlives = 0
        var reason: CloseReason?
        while a.state != .closed, let deadline = a.nextDeadline {
            let actions = a.tick(now: deadline)
            keepAlives += Self.packets(actions).filter { $0.kind == .state }.count
            if case .closed(let why)? = actions.last { reason = why }
        }
        #expect(keepAlives == 2 && reason?.kind == .timedOut)
    }

    /// An ack exactly half the sequence space from the packet in flight is neither before nor
    /// after it; it acknowledges nothing (the fuzzer's find: it ran past the packets in flight).
    @Test func anAckHalfTheSequenceSpaceAwayAcknowledgesNothing() throws {
        var (a, _) = Self.pair()
        let now = Self.start + .seconds(1)
        let sent = Self.packets(a.write([1, 2, 3], now: now))
        #expect(sent.map(\.sequence) == [501])
        for ack: UInt16 in [501 &+ 0x8000, 501 &+ 0x7FFF, 501 &+ 0x8001] {
            var stray = UTPPacket(kind: .state, connectionID: a.receiveID, window: 1 << 20, sequence: 9000, ack: ack)
            stray.selectiveAck = [0xFF, 0xFF, 0xFF, 0xFF]
            _ = a.receive(stray, now: now)
            #expect(a.bytesInFlight == 3 && a.state == .connected)
        }
    }
}
