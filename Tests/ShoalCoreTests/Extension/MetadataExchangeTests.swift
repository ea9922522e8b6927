import ShoalCore
import Testing

/// A magnet's connection in memory: what it sends, learns and closes for, on an injected clock.
@Suite("Metadata exchange (a magnet's connection)")
struct MetadataExchangeTests {
    private let origin = ContinuousClock.now
    private let us = PeerID.generate()
    private let hash = InfoHash(hashingInfo: Array("d4:name1:xe".utf8))

    private func theirHandshake(metadataSize: Int? = 40_000, ids: [String: UInt8] = ["ut_metadata": 7, "ut_pex": 9]) -> PeerMessage {
        .extended(id: 0, payload: ExtensionHandshake(messageIDs: ids, metadataSize: metadataSize).encoded)
    }

    @Test func handshakesThatRuleAPeerOut() {
        let them = PeerID.generate()
        #expect(MetadataExchange.refusal(Handshake(infoHash: hash, peerID: us, reserved: Handshake.reservedBits(dht: false)), ours: us)?.kind
            == .ourselves)
        let noExtensions = Handshake(infoHash: hash, peerID: them, reserved: [UInt8](repeating: 0, count: 8))
        #expect(MetadataExchange.refusal(noExtensions, ours: us) == CloseReason(.useless, "no extension protocol, so no metadata"))
        #expect(MetadataExchange.refusal(Handshake(infoHash: hash, peerID: them, reserved: Handshake.reservedBits(dht: true)), ours: us) == nil)
    }

    @Test func opensWithOurIdsAndRequestsInTheirs() throws {
        var exchange = MetadataExchange(pex: true, now: origin)
        guard case .extended(0, let payload) = exchange.opening(client: "Shoal", listenPort: 6881) else {
            Issue.record("not an extension handshake")
            return
        }
        let ours = try ExtensionHandshake(parsing: payload)
        #expect(ours.id(of: "ut_metadata") == ExtensionHandshake.utMetadata && ours.id(of: "ut_pex") == ExtensionHandshake.utPex)
        #expect(ours.listenPort == 6881)
        #expect(exchange.requests([0]).isEmpty, "nothing to ask before their handshake names their id")
        #expect(exchange.receive(theirHandshake(), now: origin) == .learned(.size(40_000)))
        #expect(exchange.requests([0, 2]) == [.extended(id: 7, payload: MetadataMessage.request(piece: 0).encoded),
                                              .extended(id: 7, payload: MetadataMessage.request(piece: 2).encoded)])
        // Their other messages mean nothing yet.
        #expect(exchange.receive(.have(piece: 3), now: origin) == .nothing)
        #expect(exchange.receive(.unchoke, now: origin) == .nothing)
    }

    @Test func eachBadMessageClosesWithItsReason() {
        var exchange = MetadataExchange(pex: false, now: origin)
        #expect(exchange.receive(.extended(id: 0, payload: Array("junk".utf8)), now: origin) == .close(.violation("malformed extension handshake")))
        #expect(exchange.receive(theirHandshake(ids: ["ut_pex": 3]), now: origin) == .close(CloseReason(.useless, "no ut_metadata")))
        #expect(exchange.receive(theirHandshake(), now: origin) == .learned(.size(40_000)))
        #expect(exchange.receive(.extended(id: ExtensionHandshake.utMetadata, payload: Array("d8:msg_typei9ee".utf8)), now: origin)
            == .close(.violation("malformed ut_metadata message")))
        let pex = PexMessage(added: [PeerAddress(host: "127.0.0.1", port: 7000)], dropped: []).encoded
        #expect(exchange.receive(.extended(id: ExtensionHandshake.utPex, payload: pex), now: origin) == .nothing, "PEX off: ignored")
        var withPex = MetadataExchange(pex: true, now: origin)
        #expect(withPex.receive(.extended(id: ExtensionHandshake.utPex, payload: pex), now: origin)
            == .learned(.peers([PeerAddress(host: "127.0.0.1", port: 7000)])))
    }

    /// Progress is a piece of metadata (or their handshake); requests and rejections are not. A
    /// peer that only talks is closed 20 s after its last progress, however long it talks.
    @Test func aStallClosesTwentySecondsAfterTheLastProgressOverAnHour() {
        var exchange = MetadataExchange(pex: false, now: origin)
        #expect(exchange.tick(now: origin + .seconds(19)) == nil)
        #expect(exchange.tick(now: origin + .seconds(20)) == MetadataExchange.stalled)
        _ = exchange.receive(theirHandshake(), now: origin + .seconds(10))
        // A piece every 15 s for an hour keeps it open.
        var now = origin + .seconds(10)
        for piece in 0..<240 {
            now += .seconds(15)
            #expect(exchange.tick(now: now) == nil, "at piece \(piece)")
            let data = MetadataMessage.data(piece: piece % 3, totalSize: 40_000, bytes: [1, 2, 3])
            #expect(exchange.receive(.extended(id: ExtensionHandshake.utMetadata, payload: data.encoded), now: now) == .learned(.metadata(data)))
        }
        // Then only requests: they do not count.
        let request = MetadataMessage.request(piece: 0)
        for second in 1...19 {
            _ = exchange.receive(.extended(id: ExtensionHandshake.utMetadata, payload: request.encoded), now: now + .seconds(second))
            #expect(exchange.tick(now: now + .seconds(second)) == nil)
        }
        #expect(exchange.tick(now: now + .seconds(20)) == MetadataExchange.stalled)
        #expect(exchange.deadline == now + .seconds(20))
    }
}
