import Testing
@testable import ShoalCore

/// The extension protocol's rules in memory: the extension handshake, metadata requests and
/// peer exchange, each abuse closing with its own reason.
@Suite("Peer conduct: extensions")
struct PeerConductExtensionTests {
    static let start = ContinuousClock.now
    static let geometry = PeerConductTests.geometry

    static func context(at seconds: Int = 0, pex: Bool = true, unsent: Int = 0) -> PeerConduct.Context {
        PeerConduct.Context(geometry: geometry, have: PeerConductTests.have, serving: true, queuedUploads: 0,
                            now: start + .seconds(seconds), pexAllowed: pex, unsentBytes: unsent)
    }

    static let handshake = ExtensionHandshake(messageIDs: ["ut_metadata": 3, "ut_pex": 4]).encoded
    static let ask = MetadataMessage.request(piece: 0).encoded

    @Test func aMalformedExtensionHandshakeIsAViolation() {
        var conduct = PeerConduct(supportsFast: false, now: Self.start)
        let verdict = conduct.receive(.extended(id: 0, payload: Array("d1:m".utf8)), context: Self.context())
        guard case .close(let reason) = verdict else { Issue.record("not closed: \(verdict)"); return }
        #expect(reason.kind == .protocolViolation && reason.detail.hasPrefix("extension handshake"))
    }

    /// A request before the peer said where replies go is ignored; after, it is served to its
    /// id; and one who asks while 4 MiB of replies wait unread is flooding.
    @Test func metadataRequestsAreServedUntilTheyPileUp() {
        var conduct = PeerConduct(supportsFast: false, now: Self.start)
        #expect(conduct.receive(.extended(id: ExtensionHandshake.utMetadata, payload: Self.ask), context: Self.context()) == .accept(.ignored))
        guard case .accept(.extensionHandshake) = conduct.receive(.extended(id: 0, payload: Self.handshake), context: Self.context())
        else { Issue.record("handshake refused"); return }
        #expect(conduct.extensions?.id(of: "ut_metadata") == 3)
        #expect(conduct.receive(.extended(id: ExtensionHandshake.utMetadata, payload: Self.ask), context: Self.context())
                == .accept(.metadataRequest(piece: 0, replyID: 3)))
        // The asker that never reads: replies pile up with each request until the cap.
        var unsent = 0
        var served = 0
        var closed: CloseReason?
        for _ in 0..<60_000 {
            switch conduct.receive(.extended(id: ExtensionHandshake.utMetadata, payload: Self.ask), context: Self.context(unsent: unsent)) {
            case .accept(.metadataRequest): served += 1; unsent += 16_384 + 40
            case .close(let reason): closed = reason
            default: Issue.record("unexpected verdict")
            }
            if closed != nil { break }
        }
        #expect(closed == CloseReason(.flood, "asks for metadata and does not read the replies"))
        #expect(served == (PeerConduct.maxUnsentBytes + 16_423) / 16_424, "cut off at the cap, not before: \(served)")
    }

    /// Peer exchange: ignored when off (a private torrent), taken at most once per 20 s, and a
    /// malformed message is a violation.
    @Test func peerExchangeIsRateLimitedAndChecked() {
        var conduct = PeerConduct(supportsFast: false, now: Self.start)
        let pex = PexMessage(added: [PeerAddress(host: "10.0.0.1", port: 6881)], addedFlags: [0], dropped: []).encoded
        let id = ExtensionHandshake.utPex
        #expect(conduct.receive(.extended(id: id, payload: pex), context: Self.context(pex: false)) == .accept(.ignored))
        guard case .accept(.peerExchange(let message)) = conduct.receive(.extended(id: id, payload: pex), context: Self.context(at: 1))
        else { Issue.record("pex refused"); return }
        #expect(message.added == [PeerAddress(host: "10.0.0.1", port: 6881)])
        #expect(conduct.receive(.extended(id: id, payload: pex), context: Self.context(at: 20)) == .accept(.ignored), "19 s later: too soon")
        guard case .accept(.peerExchange) = conduct.receive(.extended(id: id, payload: pex), context: Self.context(at: 21)) else {
            Issue.record("20 s later: taken"); return
        }
        let verdict = conduct.receive(.extended(id: id, payload: Array("garbage".utf8)), context: Self.context(at: 60))
        #expect(verdict == .close(.violation("malformed ut_pex message")))
        #expect(conduct.receive(.extended(id: 99, payload: []), context: Self.context()) == .accept(.ignored), "an id we never gave")
    }
}
