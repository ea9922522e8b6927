import Testing
@testable import ShoalCore

/// The peer protocol's rules in memory: bytes as a peer sends them, decoded as the connection
/// decodes them, judged by `PeerConduct`; each attack closes with its own reason, nothing else
/// (no timeout) could close it here.
@Suite("Peer conduct")
struct PeerConductTests {
    /// 20 pieces of 32 KiB, the last one short; we have all but piece 7.
    static let geometry = TorrentGeometry(totalLength: 20 * 32_768 - 5, pieceLength: 32_768, fileLengths: [20 * 32_768 - 5])
    static var have: Bitfield {
        var bits = Bitfield(count: 20, allSet: true)
        bits.clear(7)
        return bits
    }

    static let start = ContinuousClock.now

    /// Feeds `bytes` to a fresh conduct; returns the events accepted and the close, if any.
    static func run(_ bytes: [UInt8], fast: Bool = false, unchoked: Bool = false, queued: Int = 0,
                    serving: Bool = true) -> (events: [PeerConduct.Event], closed: CloseReason?, at: Int) {
        var conduct = PeerConduct(supportsFast: fast, now: start)
        if unchoked { conduct.unchoked() }
        var decoder = PeerWireDecoder(pieceCount: geometry.pieceCount)
        decoder.append(bytes)
        var events: [PeerConduct.Event] = []
        let context = PeerConduct.Context(geometry: geometry, have: have, serving: serving, queuedUploads: queued, now: start)
        do {
            while let message = try decoder.next() {
                switch conduct.receive(message, context: context) {
                case .accept(let event): events.append(event)
                case .close(let reason): return (events, reason, events.count)
                }
            }
        } catch {
            return (events, CloseReason(error), events.count)
        }
        return (events, nil, events.count)
    }

    static func frame(_ id: UInt8, _ payload: [UInt8]) -> [UInt8] { PeerMessage.unknown(id: id, payload: payload).encoded }

    struct Attack: Sendable, CustomStringConvertible {
        let description: String
        let bytes: [UInt8]
        var fast = false
        var unchoked = false
        var queued = 0
        let closes: CloseReason.Kind
        /// Words the reason's detail must contain: the rule that fired, not another.
        let saying: String
    }

    static let attacks: [Attack] = [
        Attack(description: "a message longer than the cap", bytes: [0x00, 0x10, 0x00, 0x00, 7] + [UInt8](repeating: 1, count: 64),
               closes: .protocolViolation, saying: "exceeds"),
        Attack(description: "a bitfield of the wrong size", bytes: PeerMessage.bitfield([UInt8](repeating: 0xFF, count: 6)).encoded,
               closes: .protocolViolation, saying: "bitfield of the wrong size"),
        Attack(description: "a bitfield with spare bits set", bytes: PeerMessage.bitfield([0xFF, 0xFF, 0xFF]).encoded,
               closes: .protocolViolation, saying: "spare bits"),
        Attack(description: "have for a piece out of range", bytes: PeerMessage.have(piece: 25).encoded,
               closes: .protocolViolation, saying: "have for piece 25 out of range"),
        Attack(description: "a malformed have (wrong length)", bytes: frame(4, [0, 0, 1]), closes: .protocolViolation, saying: "malformed"),
        Attack(description: "request for a piece out of range", bytes: PeerMessage.request(piece: 20, offset: 0, length: 16_384).encoded,
               closes: .protocolViolation, saying: "request 20+0/16384 out of bounds"),
        Attack(description: "request longer than 16 KiB", bytes: PeerMessage.request(piece: 0, offset: 0, length: 32_768).encoded,
               closes: .protocolViolation, saying: "out of bounds"),
        Attack(description: "request crossing the piece end", bytes: PeerMessage.request(piece: 0, offset: 24_576, length: 16_384).encoded,
               closes: .protocolViolation, saying: "out of bounds"),
        Attack(description: "request for a piece we do not have", bytes: PeerMessage.request(piece: 7, offset: 0, length: 16_384).encoded,
               unchoked: true, closes: .protocolViolation, saying: "which we do not have"),
        Attack(description: "a flood of requests while choked",
               bytes: (0..<400).flatMap { _ in PeerMessage.request(piece: 1, offset: 0, length: 16_384).encoded },
               closes: .flood, saying: "256 requests while choked"),
        Attack(description: "requests past the upload queue", bytes: PeerMessage.request(piece: 1, offset: 0, length: 16_384).encoded,
               unchoked: true, queued: PeerConduct.maxQueuedUploads, closes: .flood, saying: "requests outstanding"),
        Attack(description: "have all without the fast extension", bytes: PeerMessage.haveAll.encoded,
               closes: .protocolViolation, saying: "without the fast extension"),
        Attack(description: "have none after the first message", bytes: PeerMessage.interested.encoded + PeerMessage.haveNone.encoded,
               fast: true, closes: .protocolViolation, saying: "after the first message"),
        Attack(description: "reject without the fast extension", bytes: PeerMessage.reject(piece: 0, offset: 0, length: 16_384).encoded,
               closes: .protocolViolation, saying: "reject without"),
        Attack(description: "reject out of bounds", bytes: PeerMessage.reject(piece: 0, offset: 40_000, length: 16_384).encoded,
               fast: true, closes: .protocolViolation, saying: "out of bounds"),
        Attack(description: "allowed fast without the fast extension", bytes: PeerMessage.allowedFast(piece: 2).encoded,
               closes: .protocolViolation, saying: "allowed fast without"),
        Attack(description: "a block out of bounds",
               bytes: PeerMessage.piece(piece: 19, offset: 16_384, data: [UInt8](repeating: 0, count: 16_384)).encoded,
               closes: .protocolViolation, saying: "block 19+16384/16384 out of bounds"),
    ]

    @Test("each attack closes with its own reason", arguments: attacks)
    func attackClosesWithItsReason(_ attack: Attack) {
        let result = Self.run(attack.bytes, fast: attack.fast, unchoked: attack.unchoked, queued: attack.queued)
        #expect(result.closed?.kind == attack.closes, "\(attack): \(String(describing: result.closed))")
        #expect(result.closed?.detail.contains(attack.saying) == true, "\(attack): \(String(describing: result.closed))")
    }

    /// The flood closes at the 256th choked request exactly: 255 are tolerated (requests in
    /// flight when we choked), each answered as a choked request.
    @Test func chokedRequestsAreToleratedUpToTheLimit() {
        let request = PeerMessage.request(piece: 1, offset: 0, length: 16_384).encoded
        let tolerated = Self.run((0..<255).flatMap { _ in request })
        #expect(tolerated.closed == nil && tolerated.events.count == 255)
        #expect(tolerated.events.allSatisfy { if case .requestWhileChoked = $0 { true } else { false } })
        let flood = Self.run((0..<256).flatMap { _ in request })
        #expect(flood.closed?.kind == .flood && flood.at == 255)
    }

    /// An honest peer's opening: a bitfield first, then interest, a request while choked, and
    /// after our unchoke requests that are served; a later bitfield is a batch of haves.
    @Test func anHonestOpeningIsAccepted() {
        var conduct = PeerConduct(supportsFast: true, now: Self.start)
        var bits = Bitfield(count: 20)
        bits.set(3)
        let context = PeerConduct.Context(geometry: Self.geometry, have: Self.have, serving: true, queuedUploads: 0, now: Self.start)
        let block = Self.geometry.request(piece: 2, offset: 0, length: 16_384)!
        let handshake = ExtensionHandshake(messageIDs: ["ut_metadata": 3])
        #expect(conduct.receive(.extended(id: 0, payload: handshake.encoded), context: context) == .accept(.extensionHandshake(handshake)))
        #expect(conduct.receive(.bitfield(bits.bytes), context: context) == .accept(.has(bits, first: true)), "an extension handshake does not take the first slot")
        #expect(conduct.receive(.interested, context: context) == .accept(.interested) && conduct.peerInterested)
        #expect(conduct.receive(.request(piece: 2, offset: 0, length: 16_384), context: context) == .accept(.requestWhileChoked(block)))
        conduct.unchoked()
        #expect(conduct.receive(.request(piece: 2, offset: 0, length: 16_384), context: context) == .accept(.request(block)))
        #expect(conduct.receive(.cancel(piece: 2, offset: 0, length: 16_384), context: context) == .accept(.cancel(block)))
        #expect(conduct.receive(.bitfield(bits.bytes), context: context) == .accept(.has(bits, first: false)))
        #expect(conduct.receive(.allowedFast(piece: 99), context: context) == .accept(.ignored), "an allowed-fast piece out of range is ignored")
        #expect(conduct.receive(.unchoke, context: context) == .accept(.unchoked) && !conduct.peerChoking)
        conduct.choked()
        conduct.allowedFastGiven = [2]
        #expect(conduct.receive(.request(piece: 2, offset: 0, length: 16_384), context: context) == .accept(.request(block)),
                "an allowed-fast piece is served while choked")
    }

    /// Not serving (stopping, checking): requests are neither served nor held against the peer.
    @Test func requestsWhileNotServingAreIgnored() {
        let result = Self.run((0..<300).flatMap { _ in PeerMessage.request(piece: 1, offset: 0, length: 16_384).encoded }, serving: false)
        #expect(result.closed == nil && result.events.allSatisfy { $0 == .ignored })
    }

    /// Random byte streams: the conduct never traps, and whatever it accepts is within bounds.
    @Test func randomStreamsAreJudgedSafely() {
        var random = SplitMix64(seed: 15)
        for _ in 0..<2_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                let id = UInt8.random(in: 0...20, using: &random)
                let payload = (0..<Int.random(in: 0...20, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                bytes += Self.frame(id, payload)
            }
            let result = Self.run(bytes, fast: Bool.random(using: &random), unchoked: Bool.random(using: &random))
            for event in result.events {
                switch event {
                case .request(let block), .requestWhileChoked(let block), .cancel(let block), .rejected(let block):
                    #expect(block.piece.value < 20 && block.offset + block.length <= Self.geometry.length(of: block.piece))
                case .hasPiece(let piece): #expect(piece.value < 20)
                case .allowedFast(let piece): #expect(piece < 20)
                default: break
                }
            }
        }
    }

    // MARK: Time

    static let timeouts = PeerConduct.Timeouts(idle: .seconds(150), snub: .seconds(60))

    /// A day of a peer that sends a keep-alive every 100 s, ticked once a second: never closed.
    /// The same peer falling silent is closed on the first tick past 150 s of silence, not before.
    @Test func keepAlivesKeepAPeerForADayAndSilenceEndsIt() {
        var conduct = PeerConduct(supportsFast: false, now: Self.start)
        let context = { (now: ContinuousClock.Instant) in
            PeerConduct.Context(geometry: Self.geometry, have: Self.have, serving: true, queuedUploads: 0, now: now)
        }
        for second in 1...86_400 {
            let now = Self.start + .seconds(second)
            if second.isMultiple(of: 100) { _ = conduct.receive(.keepAlive, context: context(now)) }
            #expect(conduct.tick(now: now, waitingOnIt: false, timeouts: Self.timeouts) == nil)
        }
        let silentFrom = Self.start + .seconds(86_400)
        for second in 1...150 {
            #expect(conduct.tick(now: silentFrom + .seconds(second), waitingOnIt: false, timeouts: Self.timeouts) == nil)
        }
        #expect(conduct.tick(now: silentFrom + .seconds(151), waitingOnIt: false, timeouts: Self.timeouts)
                == .close(CloseReason(.timedOut, "no message for 150.0 seconds")))
    }

    /// Snubbing: reported once when a minute passes with requests out and no block; a block
    /// clears it, and it can come again. Waiting on nothing is never snubbing.
    @Test func snubbingIsReportedOnceUntilABlockArrives() {
        var conduct = PeerConduct(supportsFast: false, now: Self.start)
        var reports: [Int] = []
        for second in 1...600 {
            let now = Self.start + .seconds(second)
            // Chatty (never idle), but the blocks stop at 100 s and start again at 300 s.
            _ = conduct.receive(.keepAlive, context: PeerConduct.Context(geometry: Self.geometry, have: Self.have, serving: true,
                                                                        queuedUploads: 0, now: now))
            if second < 100 || (300..<310).contains(second) { conduct.blockArrived(now: now) }
            if conduct.tick(now: now, waitingOnIt: second < 500, timeouts: Self.timeouts) == .snubbed { reports.append(second) }
        }
        #expect(reports == [160, 370], "snubbed 60 s after the last block, once each time")
        var idle = PeerConduct(supportsFast: false, now: Self.start)
        #expect(idle.tick(now: Self.start + .seconds(100), waitingOnIt: false, timeouts: Self.timeouts) == nil)
    }

    // MARK: Opening

    @Test func openingFollowsBEP6() {
        var some = Bitfield(count: 20)
        some.set(4)
        let full = Bitfield(count: 20, allSet: true), none = Bitfield(count: 20)
        let ext: [UInt8] = Array("d1:md11:ut_metadatai2eee".utf8)
        // A fast peer: have all / have none / bitfield, then the extension handshake, the allowed set, the DHT port.
        #expect(PeerConduct.opening(have: full, fast: true, superSeeding: false, extensionHandshake: ext, allowedFast: [1, 2], dhtPort: 6881)
                == [.haveAll, .extended(id: 0, payload: ext), .allowedFast(piece: 1), .allowedFast(piece: 2), .port(6881)])
        #expect(PeerConduct.opening(have: none, fast: true, superSeeding: false, extensionHandshake: nil, allowedFast: [], dhtPort: nil)
                == [.haveNone])
        #expect(PeerConduct.opening(have: some, fast: true, superSeeding: false, extensionHandshake: nil, allowedFast: [4], dhtPort: nil)
                == [.bitfield(some.bytes), .allowedFast(piece: 4)])
        // A plain peer: a bitfield only when we have something, never the fast messages.
        #expect(PeerConduct.opening(have: none, fast: false, superSeeding: false, extensionHandshake: ext, allowedFast: [1], dhtPort: nil)
                == [.extended(id: 0, payload: ext)])
        #expect(PeerConduct.opening(have: full, fast: false, superSeeding: false, extensionHandshake: nil, allowedFast: [], dhtPort: nil)
                == [.bitfield(full.bytes)])
        // A super-seed shows nothing here (its one piece follows as a have), have none to a fast peer.
        #expect(PeerConduct.opening(have: full, fast: true, superSeeding: true, extensionHandshake: ext, allowedFast: [1], dhtPort: nil)
                == [.haveNone, .extended(id: 0, payload: ext)])
        #expect(PeerConduct.opening(have: full, fast: false, superSeeding: true, extensionHandshake: nil, allowedFast: [], dhtPort: nil) == [])
    }

    /// BEP 52 hash requests: a burst of 256 is taken, the next closes the connection as a flood;
    /// the allowance comes back at 20 a second, and an hour of 10 a second is never closed.
    @Test func hashRequestsAreTakenAtAPaceAndAFloodCloses() {
        let request = HashRequest(piecesRoot: [UInt8](repeating: 1, count: 32), baseLayer: 0, index: 0, length: 2, proofLayers: 0)
        func context(_ now: ContinuousClock.Instant) -> PeerConduct.Context {
            PeerConduct.Context(geometry: Self.geometry, have: Self.have, serving: true, queuedUploads: 0, now: now)
        }
        var burst = PeerConduct(supportsFast: true, now: Self.start)
        for _ in 0..<PeerConduct.hashRequestBurst {
            #expect(burst.receive(.hashRequest(request), context: context(Self.start)) == .accept(.hashRequest(request)))
        }
        guard case .close(let reason) = burst.receive(.hashRequest(request), context: context(Self.start)) else {
            Issue.record("a flood of hash requests taken")
            return
        }
        #expect(reason.kind == .flood)
        var refilled = 0
        let later = Self.start + .seconds(1)
        while case .accept = burst.receive(.hashRequest(request), context: context(later)) { refilled += 1 }
        #expect(refilled == 20, "\(refilled) more after a second")

        var steady = PeerConduct(supportsFast: true, now: Self.start)
        for tenth in 0..<36_000 {
            guard case .accept = steady.receive(.hashRequest(request), context: context(Self.start + .milliseconds(100 * tenth))) else {
                Issue.record("closed at \(tenth / 10) s")
                return
            }
        }
    }
}
