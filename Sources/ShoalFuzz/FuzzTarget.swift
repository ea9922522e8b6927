import ShoalCore

/// The parsers that read bytes from strangers, each a fuzz target: it must return or throw,
/// never crash, whatever the input.
enum FuzzTarget: String, CaseIterable {
    case bencode, metainfo, magnet, peerwire, announce, udpClient = "udp-client", udpServer = "udp-server", krpc, extensions, mse, utp

    func run(_ bytes: [UInt8]) {
        switch self {
        case .bencode:
            if let node = try? BencodeDecoder(limits: .init(maxDepth: 32, maxInputSize: 1 << 20)).decode(bytes) {
                // What decodes must re-encode and decode to the same value.
                let again = try? BencodeDecoder.decode(BencodeEncoder.encode(node.value))
                precondition(again?.value == node.value, "bencode round trip changed the value")
            }
        case .metainfo:
            // A v2 torrent's hash trees are used at once: answering a peer, checking a piece,
            // asking for layers.
            if let metainfo = try? Metainfo(bytes: bytes), let piece = metainfo.info.geometry.piece(0) {
                if let v2 = metainfo.info.v2Pieces {
                    _ = v2.matches([UInt8](repeating: 0, count: metainfo.info.geometry.length(of: piece)), piece: piece)
                    if let request = v2.blockHashRequest(for: piece) { _ = v2.answer(request) }
                }
                var layers = PieceLayerAssembler(info: metainfo.info)
                _ = layers.requests(for: 1, limit: 4)
            }
        case .magnet:
            _ = try? MagnetLink(parsing: String(decoding: bytes, as: UTF8.self))
        case .peerwire:
            // Fed in two chunks at a point the input chooses, as a network would split it.
            var decoder = PeerWireDecoder(pieceCount: 1000)
            let split = bytes.isEmpty ? 0 : Int(bytes[0]) % bytes.count
            decoder.append(bytes[..<split])
            while let _ = try? decoder.next() {}
            decoder.append(bytes[split...])
            while let message = try? decoder.next() {
                let encoded = message.encoded
                var check = PeerWireDecoder(pieceCount: 1000)
                check.append(encoded)
                precondition((try? check.next()) == message, "peer wire round trip changed the message")
            }
            // The receive path's decode(_:into:) must give what next() gives, error for error.
            var whole = PeerWireDecoder(pieceCount: 1000)
            whole.append(bytes)
            var expected: [PeerMessage] = []
            var failed = false
            do { while let message = try whole.next() { expected.append(message) } } catch { failed = true }
            var chunked = PeerWireDecoder(pieceCount: 1000)
            var got: [PeerMessage] = []
            let cut = bytes.count > 1 ? Int(bytes[1]) % bytes.count : 0
            var chunkFailed = false
            bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Void in
                do {
                    try chunked.decode(UnsafeRawBufferPointer(rebasing: raw[..<split]), into: &got)
                    try chunked.decode(UnsafeRawBufferPointer(rebasing: raw[split..<max(split, cut)]), into: &got)
                    try chunked.decode(UnsafeRawBufferPointer(rebasing: raw[max(split, cut)...]), into: &got)
                } catch {
                    chunkFailed = true
                }
            }
            precondition(got == expected && chunkFailed == failed, "decode(_:into:) differs from next()")
            _ = try? Handshake(parsing: bytes)
        case .announce:
            _ = try? AnnounceResponse(httpBody: bytes)
            _ = try? ScrapeResponse.parse(httpBody: bytes)
        case .udpClient:
            _ = try? UDPTrackerPacket.parseResponse(bytes)
            _ = try? UDPTrackerPacket.parseResponse(bytes, ipv6: true)
        case .udpServer:
            _ = try? UDPTrackerPacket.parseRequest(bytes)
        case .krpc:
            // Parsing normalises (error text is decoded leniently and cut to 200 bytes), so the
            // round trip must be stable from the second parse on.
            if let message = try? KRPCMessage(parsing: bytes) {
                let again = try? KRPCMessage(parsing: message.encoded)
                precondition(again != nil, "a parsed KRPC message does not parse once encoded")
                precondition((try? KRPCMessage(parsing: again!.encoded)) == again, "KRPC round trip is not stable")
            }
        case .extensions:
            _ = try? ExtensionHandshake(parsing: bytes)
            _ = try? MetadataMessage(parsing: bytes)
            _ = try? PexMessage(parsing: bytes)
            var assembler = MetadataAssembler(infoHash: InfoHash(bytes: [UInt8](repeating: 0, count: 20))!)
            if let message = try? MetadataMessage(parsing: bytes), case .data(let piece, let total, let data) = message {
                assembler.learnSize(total)
                _ = assembler.requests(for: 1, limit: 1000)
                _ = assembler.receive(piece: piece, totalSize: total, bytes: data, from: 1)
            }
            // A magnet's connection fed the bytes as each extended message it reads.
            let start = ContinuousClock.now
            var exchange = MetadataExchange(pex: true, now: start)
            for id: UInt8 in [0, ExtensionHandshake.utMetadata, ExtensionHandshake.utPex] {
                _ = exchange.receive(.extended(id: id, payload: bytes), now: start)
            }
            precondition(exchange.deadline == start + MetadataExchange.stallLimit, "a stall deadline moved by other than now")
            precondition(exchange.theirMetadataID != nil || exchange.requests([0]).isEmpty, "a request before their id")
        case .mse:
            MSEFuzz.run(bytes)
        case .utp:
            UTPFuzz.run(bytes)
        }
    }
}

/// The MSE handshake against hostile bytes, two ways: the input as the whole stream a peer
/// sends (to a responder, and to an initiator after a valid key), and a real handshake whose
/// initiator bytes past its key the input corrupts, so the encrypted fields that follow decode
/// to garbage of the fuzzer's choosing. Either must fail or finish, never trap; a finished one
/// names the only torrent there is.
enum MSEFuzz {
    static let torrent = InfoHash(bytes: [UInt8](repeating: 0x5A, count: 20))!
    static let lookup: MSEHandshake.TorrentLookup = { $0 == MSEKeyExchange.obfuscatedKey(for: torrent) ? torrent : nil }

    static func run(_ bytes: [UInt8]) {
        var random = SplitMix64(seed: 1)
        let split = bytes.isEmpty ? 0 : Int(bytes[0]) * 4 % (bytes.count + 1)
        var responder = MSEHandshake.responder(preference: [.rc4, .plaintext], lookup: lookup, using: &random)
        if (try? responder.receive(bytes[..<split])) != nil { check(try? responder.receive(bytes[split...]).established) }
        var (initiator, _) = MSEHandshake.initiator(infoHash: torrent, provide: [.rc4, .plaintext], using: &random)
        if (try? initiator.receive(MSEKeyExchange(privateKey: [7, 7, 7]).publicKey)) != nil {
            check(try? initiator.receive(bytes).established)
        }

        // A real pair, the initiator's request (after its key) xored with the input.
        var (honest, opening) = MSEHandshake.initiator(infoHash: torrent, provide: [.rc4, .plaintext], using: &random)
        var other = MSEHandshake.responder(preference: [.plaintext, .rc4], lookup: lookup, using: &random)
        guard let reply = try? other.receive(opening), var request = try? honest.receive(reply.send).send, !bytes.isEmpty else { return }
        for index in request.indices { request[index] ^= bytes[index % bytes.count] }
        check(try? other.receive(request).established)
    }

    static func check(_ stream: MSEStream??) {
        if case .some(.some(let stream)) = stream { precondition(stream.infoHash == torrent, "an MSE stream named an unknown torrent") }
    }
}

/// uTP against hostile datagrams: each decoded packet must encode back to itself, and every one
/// of a run of them (the input cut into datagrams by length bytes) goes to connections in each
/// state, the clock moving, the ids made to match so the state machine, not the id check,
/// meets them. Whatever comes, nothing traps and a connection's counts stay sane.
enum UTPFuzz {
    static func run(_ bytes: [UInt8]) {
        if let packet = try? UTPPacket(decoding: bytes) {
            precondition((try? UTPPacket(decoding: packet.encoded())) == packet, "uTP round trip changed the packet")
        }
        var now = ContinuousClock.now
        var (dialler, dialled) = UTPConnection.dial(receiveID: 10, initialSequence: 0xFFF0, now: now)
        guard case .send(let syn)? = dialled.first else { return }
        var (answerer, _) = UTPConnection.accept(syn, initialSequence: 0xFFFE, now: now)
        var (connected, _) = UTPConnection.accept(syn, initialSequence: 5, now: now)
        _ = connected.write([UInt8](repeating: 1, count: 5_000), now: now)
        var at = 0
        while at < bytes.count {
            let length = Int(bytes[at])
            at += 1
            let datagram = bytes[at..<min(at + length, bytes.count)]
            at += length
            now += .milliseconds(Int64(length) * 7)
            guard var packet = try? UTPPacket(decoding: datagram) else { continue }
            packet.connectionID = dialler.receiveID
            _ = dialler.receive(packet, now: now)
            _ = answerer.receive(packet, now: now, deferAck: length % 2 == 0)
            _ = answerer.flushAck(now: now)
            _ = connected.receive(packet, now: now)
            _ = connected.consumed(Int(packet.window % 4_096), now: now)
            for connection in [dialler, answerer, connected] {
                precondition(connection.bytesInFlight >= 0, "negative bytes in flight")
            }
            _ = dialler.tick(now: now)
            _ = connected.tick(now: now)
        }
    }
}
