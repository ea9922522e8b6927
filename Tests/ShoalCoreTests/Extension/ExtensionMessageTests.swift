import Testing
@testable import ShoalCore

@Suite("Extension protocol messages (BEP 10, 9, 11, 6)")
struct ExtensionMessageTests {
    @Test func extensionHandshakeRoundTripsAndMatchesBEP10() throws {
        let handshake = ExtensionHandshake(messageIDs: ["ut_metadata": 1, "ut_pex": 2], client: "Shoal 0.1.0", listenPort: 6881,
                                           requestQueue: 250, metadataSize: 31_235, yourIP: [127, 0, 0, 1])
        #expect(try ExtensionHandshake(parsing: handshake.encoded) == handshake)
        // BEP 10's own example.
        // (µ is one Latin-1 byte there, so that name is not UTF-8 and is skipped.)
        let bytes = Array("d1:md11:LT_metadatai1e6:".utf8) + [0xB5] + Array("T_PEXi2ee1:pi6881e1:v13:µTorrent 1.2e".utf8)
        let example = try ExtensionHandshake(parsing: bytes)
        #expect(example.id(of: "LT_metadata") == 1 && example.listenPort == 6881 && example.client == "µTorrent 1.2")
        let disabled = try ExtensionHandshake(parsing: Array("d1:md6:ut_pexi0eee".utf8))
        #expect(disabled.id(of: "ut_pex") == nil, "id 0 turns an extension off")
    }

    static let badHandshakes = ["", "le", "d1:md6:ut_pexi300eee", "d13:metadata_sizei-5ee", "d13:metadata_sizei99999999999ee", "d1:m"]

    @Test("bad extension handshakes are errors or lose only the bad value", arguments: badHandshakes)
    func badHandshake(_ text: String) {
        if let parsed = try? ExtensionHandshake(parsing: Array(text.utf8)) {
            #expect(parsed.messageIDs["ut_pex"] == nil, "an id over 255 is dropped")
        }
    }

    @Test func metadataMessagesMatchBEP9() throws {
        #expect(MetadataMessage.request(piece: 0).encoded == Array("d8:msg_typei0e5:piecei0ee".utf8))
        #expect(MetadataMessage.reject(piece: 2).encoded == Array("d8:msg_typei2e5:piecei2ee".utf8))
        let data = MetadataMessage.data(piece: 1, totalSize: 20_000, bytes: [1, 2, 3])
        #expect(data.encoded == Array("d8:msg_typei1e5:piecei1e10:total_sizei20000ee".utf8) + [1, 2, 3])
        #expect(try MetadataMessage(parsing: data.encoded) == data)
        for bad in ["d8:msg_typei7e5:piecei0ee", "d5:piecei0ee", "d8:msg_typei0e5:piecei-1ee", "d8:msg_typei1e5:piecei0ee", "x"] {
            #expect(throws: MetadataMessage.ParseError.self, "\\(bad)") { try MetadataMessage(parsing: Array(bad.utf8)) }
        }
        let oversized = Array("d8:msg_typei1e5:piecei0e10:total_sizei40000ee".utf8) + [UInt8](repeating: 0, count: 16_385)
        #expect(throws: MetadataMessage.ParseError.self) { try MetadataMessage(parsing: oversized) }
    }

    @Test func metadataAssemblerVerifiesAgainstTheInfoHash() {
        let info = Array(BencodeEncoder.encode(.dict(["name": .string("x"), "piece length": .integer(16384),
                                                      "pieces": .bytes([UInt8](repeating: 7, count: 20 * 3)),
                                                      "length": .integer(40_000), "pad": .bytes([UInt8](repeating: 1, count: 40_000))])))
        let hash = InfoHash(hashingInfo: info)
        var assembler = MetadataAssembler(infoHash: hash)
        let early = assembler.requests(for: 1)
        #expect(early.isEmpty, "nothing to ask before the size is known")
        let learned = assembler.learnSize(info.count)
        let disagreeing = assembler.learnSize(info.count + 1)
        #expect(learned && !disagreeing, "a peer that disagrees on the size is not believed")
        let first = assembler.requests(for: 1, limit: 2)
        let second = assembler.requests(for: 2, limit: 5)
        #expect(first == [0, 1] && second == [2], "\(first) \(second)")
        func chunk(_ piece: Int) -> [UInt8] {
            Array(info[piece * 16384..<min(info.count, (piece + 1) * 16384)])
        }
        var outcomes: [MetadataAssembler.Outcome] = []
        outcomes.append(assembler.receive(piece: 2, totalSize: info.count, bytes: chunk(2), from: 1))  // asked of peer 2
        outcomes.append(assembler.receive(piece: 0, totalSize: info.count, bytes: chunk(0), from: 1))
        outcomes.append(assembler.receive(piece: 1, totalSize: info.count, bytes: chunk(1), from: 1))
        var corrupt = chunk(2)
        corrupt[0] ^= 0xFF
        outcomes.append(assembler.receive(piece: 2, totalSize: info.count, bytes: corrupt, from: 2))
        #expect(outcomes == [.rejected("unrequested or inconsistent metadata piece 2"), .needMore, .needMore, .hashMismatch])
        // Everything is asked again; a peer that left gives its pieces back.
        let again = assembler.requests(for: 3, limit: 3)
        assembler.release(3)
        let afterRelease = assembler.requests(for: 4, limit: 3)
        #expect(again == [0, 1, 2] && afterRelease == [0, 1, 2])
        _ = assembler.receive(piece: 0, totalSize: info.count, bytes: chunk(0), from: 4)
        _ = assembler.receive(piece: 1, totalSize: info.count, bytes: chunk(1), from: 4)
        let last = assembler.receive(piece: 2, totalSize: info.count, bytes: chunk(2), from: 4)
        #expect(last == .complete(info))
    }

    /// After a failed round from several peers, one peer supplies a whole round; if that fails
    /// too, it is named.
    @Test func aLiarIsNamedBySingleSourceRounds() {
        let info = Array(BencodeEncoder.encode(.dict(["name": .string("y"), "pad": .bytes([UInt8](repeating: 3, count: 20_000))])))
        var assembler = MetadataAssembler(infoHash: InfoHash(hashingInfo: info))
        _ = assembler.learnSize(info.count)
        let honest = 1, liar = 2
        let fromHonest = assembler.requests(for: honest, limit: 1)
        let fromLiar = assembler.requests(for: liar, limit: 1)
        func chunk(_ piece: Int) -> [UInt8] { Array(info[piece * 16384..<min(info.count, (piece + 1) * 16384)]) }
        _ = assembler.receive(piece: fromHonest[0], totalSize: info.count, bytes: chunk(fromHonest[0]), from: honest)
        let mixed = assembler.receive(piece: fromLiar[0], totalSize: info.count, bytes: [UInt8](repeating: 0, count: chunk(fromLiar[0]).count),
                                      from: liar)
        #expect(mixed == .hashMismatch && assembler.singleSource)
        let liarRound = assembler.requests(for: liar, limit: 5)
        let honestMeanwhile = assembler.requests(for: honest, limit: 5)
        #expect(liarRound == [0, 1] && honestMeanwhile.isEmpty, "one peer a round")
        _ = assembler.receive(piece: 0, totalSize: info.count, bytes: [UInt8](repeating: 0, count: 16384), from: liar)
        let named = assembler.receive(piece: 1, totalSize: info.count, bytes: [UInt8](repeating: 0, count: chunk(1).count), from: liar)
        #expect(named == .liar(liar))
        let honestRound = assembler.requests(for: honest, limit: 5)
        _ = assembler.receive(piece: 0, totalSize: info.count, bytes: chunk(0), from: honest)
        let done = assembler.receive(piece: 1, totalSize: info.count, bytes: chunk(1), from: honest)
        #expect(honestRound == [0, 1] && done == .complete(info))
    }

    @Test func pexRoundTripsAndCapsItsLists() throws {
        let message = PexMessage(added: [PeerAddress(host: "10.0.0.1", port: 6881), PeerAddress(host: "::1", port: 80)],
                                 addedFlags: [PexMessage.seedFlag, 0], dropped: [PeerAddress(host: "10.0.0.2", port: 1)])
        let parsed = try PexMessage(parsing: message.encoded)
        #expect(parsed.added == message.added && parsed.dropped == message.dropped && parsed.addedFlags == [PexMessage.seedFlag])
        let many = (0..<80).map { PeerAddress(host: "10.0.1.\($0)", port: 1000) }
        #expect(try PexMessage(parsing: PexMessage(added: many, dropped: []).encoded).added.count == 50)
        #expect(throws: PexMessage.ParseError.self) { try PexMessage(parsing: Array("d5:added5:abcdee".utf8)) }
        #expect(throws: PexMessage.ParseError.self) { try PexMessage(parsing: Array("i1e".utf8)) }
    }

    /// BEP 6's worked example: 80.4.4.200, info-hash of 0xAA bytes, 1313 pieces.
    @Test func allowedFastSetMatchesBEP6() {
        let hash = InfoHash(bytes: [UInt8](repeating: 0xAA, count: 20))!
        #expect(AllowedFastSet.pieces(for: "80.4.4.200", infoHash: hash, pieceCount: 1313, count: 7) == [1059, 431, 808, 1217, 287, 376, 1188])
        #expect(AllowedFastSet.pieces(for: "80.4.4.200", infoHash: hash, pieceCount: 1313, count: 9)
            == [1059, 431, 808, 1217, 287, 376, 1188, 353, 508])
        #expect(AllowedFastSet.pieces(for: "::1", infoHash: hash, pieceCount: 10, count: 3).isEmpty)
        #expect(AllowedFastSet.pieces(for: "1.2.3.4", infoHash: hash, pieceCount: 2, count: 10).count == 2)
    }

    @Test func handshakeAdvertisesExtensionsAndFast() throws {
        let hash = InfoHash(bytes: [UInt8](repeating: 1, count: 20))!
        let ours = Handshake(infoHash: hash, peerID: .generate())
        #expect(ours.supportsExtensions && ours.supportsFast && !ours.supportsDHT)
        let parsed = try Handshake(parsing: Handshake(infoHash: hash, peerID: .generate(), reserved: Handshake.reservedBits(dht: true)).encoded)
        #expect(parsed.supportsDHT)
    }
}
