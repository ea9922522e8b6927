import Testing
@testable import ShoalCore

@Suite("Peer wire codec")
struct PeerWireDecoderTests {
    static let messages: [PeerMessage] = [
        .keepAlive, .choke, .unchoke, .interested, .notInterested, .have(piece: 7),
        .bitfield([0b1010_0000, 0xFF, 0b1100_0000]), .request(piece: 1, offset: 16384, length: 16384),
        .piece(piece: 2, offset: 0, data: Array(0..<200)), .cancel(piece: 1, offset: 16384, length: 16384),
        .port(6881), .unknown(id: 99, payload: [0, 100, 101]), .piece(piece: 0, offset: 0, data: []),
        .suggest(piece: 3), .haveAll, .haveNone, .reject(piece: 1, offset: 0, length: 16384), .allowedFast(piece: 9),
        .extended(id: 0, payload: Array("d1:md11:ut_metadatai1eee".utf8)), .extended(id: 2, payload: []),
    ]

    @Test func byteVectors() {
        #expect(PeerMessage.keepAlive.encoded == [0, 0, 0, 0])
        #expect(PeerMessage.choke.encoded == [0, 0, 0, 1, 0])
        #expect(PeerMessage.have(piece: 258).encoded == [0, 0, 0, 5, 4, 0, 0, 1, 2])
        #expect(PeerMessage.request(piece: 1, offset: 2, length: 3).encoded == [0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3])
        #expect(PeerMessage.piece(piece: 1, offset: 2, data: [9, 9]).encoded == [0, 0, 0, 11, 7, 0, 0, 0, 1, 0, 0, 0, 2, 9, 9])
        #expect(PeerMessage.port(0x1AE1).encoded == [0, 0, 0, 3, 9, 0x1A, 0xE1])
        // BEP 6 and BEP 10 ids: 13 suggest, 14 have all, 15 have none, 16 reject, 17 allowed fast, 20 extended.
        #expect(PeerMessage.suggest(piece: 5).encoded == [0, 0, 0, 5, 13, 0, 0, 0, 5])
        #expect(PeerMessage.haveAll.encoded == [0, 0, 0, 1, 14])
        #expect(PeerMessage.haveNone.encoded == [0, 0, 0, 1, 15])
        #expect(PeerMessage.reject(piece: 1, offset: 2, length: 3).encoded == [0, 0, 0, 13, 16, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3])
        #expect(PeerMessage.allowedFast(piece: 258).encoded == [0, 0, 0, 5, 17, 0, 0, 1, 2])
        #expect(PeerMessage.extended(id: 3, payload: [0x64, 0x65]).encoded == [0, 0, 0, 4, 20, 3, 0x64, 0x65])
    }

    @Test func malformedFastAndExtendedMessagesAreErrors() {
        for frame: [UInt8] in [[0, 0, 0, 2, 14, 0], [0, 0, 0, 4, 16, 0, 0, 0], [0, 0, 0, 1, 20], [0, 0, 0, 2, 17, 1]] {
            var decoder = PeerWireDecoder(pieceCount: 10)
            decoder.append(frame)
            #expect(throws: PeerWireDecoder.DecodeError.self, "\(frame)") { try decoder.next() }
        }
    }

    @Test("decodes the stream split at every byte position")
    func everySplitPoint() throws {
        let stream = Self.messages.flatMap(\.encoded)
        for split in 0...stream.count {
            var decoder = PeerWireDecoder(pieceCount: 24)
            var out: [PeerMessage] = []
            decoder.append(stream[0..<split])
            while let message = try decoder.next() { out.append(message) }
            decoder.append(stream[split...])
            while let message = try decoder.next() { out.append(message) }
            #expect(out == Self.messages, "split at \(split)")
            #expect(decoder.bufferedByteCount == 0)
        }
    }

    @Test("decodes the stream fed in random chunks", arguments: 0..<5)
    func randomChunks(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let stream = (0..<20).flatMap { _ in Self.messages }.flatMap(\.encoded)
        var decoder = PeerWireDecoder(pieceCount: 24)
        var out: [PeerMessage] = []
        var position = 0
        while position < stream.count {
            let size = min(stream.count - position, Int.random(in: 1...50, using: &rng))
            decoder.append(stream[position..<position + size])
            position += size
            while let message = try decoder.next() { out.append(message) }
        }
        #expect(out.count == 20 * Self.messages.count)
    }

    /// The receive path's `decode(_:into:)`: every split, random chunks, and bytes left from
    /// `append` (the handshake's read) before it. Same messages as `next()` gives.
    @Test("decode(_:into:) gives the same messages at every split point")
    func decodeEverySplitPoint() throws {
        let stream = Self.messages.flatMap(\.encoded)
        for split in 0...stream.count {
            for early in [0, min(split, 3)] {
                var decoder = PeerWireDecoder(pieceCount: 24)
                var out: [PeerMessage] = []
                decoder.append(stream[0..<early])
                try stream[early..<split].withUnsafeBytes { try decoder.decode($0, into: &out) }
                try stream[split...].withUnsafeBytes { try decoder.decode($0, into: &out) }
                #expect(out == Self.messages, "split at \(split), \(early) bytes appended first")
                #expect(decoder.bufferedByteCount == 0)
            }
        }
    }

    @Test("decode(_:into:) handles random chunks", arguments: 0..<5)
    func decodeRandomChunks(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let expected = (0..<20).flatMap { _ in Self.messages }
        let stream = expected.flatMap(\.encoded)
        var decoder = PeerWireDecoder(pieceCount: 24)
        var out: [PeerMessage] = []
        var position = 0
        while position < stream.count {
            let size = min(stream.count - position, Int.random(in: 0...300, using: &rng))
            try stream[position..<position + size].withUnsafeBytes { try decoder.decode($0, into: &out) }
            position += size
        }
        #expect(out == expected)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test("decode(_:into:) refuses an oversized frame, whole or begun in an earlier read")
    func decodeRefusesFramesOverTheCap() {
        let frame: [UInt8] = [0, 0, 0x44, 0x01, 7]
        for split in [5, 2] {
            var decoder = PeerWireDecoder(pieceCount: 100)
            var out: [PeerMessage] = []
            #expect(throws: PeerWireDecoder.DecodeError.frameTooLong(17_409, limit: 17_408)) {
                try frame[..<split].withUnsafeBytes { try decoder.decode($0, into: &out) }
                try frame[split...].withUnsafeBytes { try decoder.decode($0, into: &out) }
            }
        }
        for bytes in Self.malformed {
            var decoder = PeerWireDecoder(pieceCount: 10)
            var out: [PeerMessage] = []
            #expect(throws: PeerWireDecoder.DecodeError.self, "\(bytes)") {
                try bytes.withUnsafeBytes { try decoder.decode($0, into: &out) }
            }
        }
    }

    @Test func refusesFramesOverTheCap() {
        var decoder = PeerWireDecoder(pieceCount: 100)
        decoder.append([0, 0, 0x44, 0x01])  // 17,409 bytes: one more than a metadata piece + header
        #expect(throws: PeerWireDecoder.DecodeError.frameTooLong(17_409, limit: 17_408)) { try decoder.next() }
        var big = PeerWireDecoder(pieceCount: 1_000_000)
        big.append([0, 0x01, 0xE8, 0x49])  // a bitfield for 1,000,000 pieces fits
        #expect(throws: Never.self) { _ = try big.next() }
        var huge = PeerWireDecoder(pieceCount: 10)
        huge.append([0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: PeerWireDecoder.DecodeError.self) { try huge.next() }
    }

    static let malformed: [[UInt8]] = [
        [0, 0, 0, 2, 0, 0],  // choke with a payload
        [0, 0, 0, 4, 4, 0, 0, 1],  // have with 3 bytes
        [0, 0, 0, 12, 6, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0],  // request with 11 bytes
        [0, 0, 0, 5, 7, 0, 0, 0, 1],  // piece without offset
        [0, 0, 0, 2, 9, 1],  // port with 1 byte
    ]

    @Test("rejects messages with the wrong payload size", arguments: malformed)
    func rejectsMalformed(bytes: [UInt8]) {
        var decoder = PeerWireDecoder(pieceCount: 10)
        decoder.append(bytes)
        #expect(throws: PeerWireDecoder.DecodeError.self) { try decoder.next() }
    }

    @Test func handshakeRoundTrip() throws {
        let hash = InfoHash(bytes: [UInt8](repeating: 0xAA, count: 20))!
        let id = PeerID(bytes: Array("-SH0100-abcdefghijkl".utf8))!
        let handshake = Handshake(infoHash: hash, peerID: id)
        let bytes = handshake.encoded
        #expect(bytes.count == 68)
        #expect(bytes[0] == 19)
        #expect(try Handshake(parsing: bytes) == handshake)
        #expect(Handshake.infoHash(inPrefix: bytes.prefix(48)) == hash)
        var wrong = bytes
        wrong[5] = 0
        #expect(throws: Handshake.ParseError.notBitTorrent) { try Handshake(parsing: wrong) }
    }
}
