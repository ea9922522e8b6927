import ShoalCore

/// Acting on what peers send (BEP 3): `PeerConduct` checks each message and says what it means;
/// here the torrent carries that out (the picker, super-seeding, serving). A message that breaks
/// the protocol closes the connection with the conduct's reason.
extension TorrentRuntime {
    /// The messages one read brought: one hop onto the actor for all of them, and the blocks
    /// they request queued for the connection's writer at once. What the conduct judges them
    /// against is gathered once per read; only the queue counts, which serving moves, per message.
    func handle(_ messages: [PeerMessage], from key: Int) {
        guard let record = peers[key], let have = picker?.have else { return }
        var context = PeerConduct.Context(geometry: metainfo.info.geometry, have: have,
                                          serving: activity == .seeding || activity == .downloading,
                                          queuedUploads: 0, now: .now, pexAllowed: pexAllowed)
        var serving: [BlockRequest] = []
        for message in messages {
            // Dropped: whatever it still sends before the socket closes is ignored.
            guard !record.closing else { break }
            context.queuedUploads = record.link.queuedUploads.load(ordering: .relaxed) + serving.count
            context.unsentBytes = record.link.unsentBytes.load(ordering: .relaxed)
            switch record.conduct.receive(message, context: context) {
            case .close(let reason): drop(key, reason)
            case .accept(let event): act(on: event, from: key, record, serving: &serving)
            }
        }
        if !serving.isEmpty, !record.closing { record.link.serve(serving) }
    }

    private func act(on event: PeerConduct.Event, from key: Int, _ record: PeerRecord, serving: inout [BlockRequest]) {
        switch event {
        case .keepAlive, .ignored, .notInterested:
            break  // the conduct keeps its state bits; a suggestion is only a hint (the picker keeps its own order)
        case .dhtPort(let port):
            // The peer's DHT node (BEP 5): worth a ping when we run the DHT.
            if let dht { dht.suggest(PeerAddress(host: record.address.host, port: port)) }
        case .extensionHandshake:
            break  // kept in the conduct: its ids, its listening port
        case .metadataRequest(let piece, let replyID):
            serveMetadata(piece, replyID: replyID, to: record)
        case .peerExchange(let message):
            // Our own address among them is dialled once and marked as ourselves by its peer id.
            addPeers(message.added, source: .pex)
        case .has(let bits, let first):
            if first { picker?.peerJoined(key, has: bits) } else { picker?.peerHas(key, bitfield: bits) }
            superSeedingSaw(key, pieces: Array(bits.setIndices))
            updateInterest(key)
            dropIfBothSeeds(key)
        case .hasPiece(let piece):
            picker?.peerHas(key, piece: piece)
            superSeedingSaw(key, pieces: [piece.value])
            updateInterest(key)
            fillRequests(key)
            dropIfBothSeeds(key)
        case .rejected(let block):
            // The block goes back to the pool; another peer (or this one later) gets asked.
            picker?.unrequest(block, by: key)
            // Refused while unchoked: the peer does not want to send that piece now (a seed
            // keeping its upload for pieces nobody else has). Ask it for others meanwhile.
            if !record.peerChoking {
                if record.refused.isEmpty { record.refusedSince = .now }
                record.refused.insert(block.piece.value)
                fillRequests(key)
            }
        case .allowedFast(let index):
            record.allowedFast.insert(index)
            fillRequests(key)
        case .choked:
            picker?.release(key)
        case .unchoked:
            fillRequests(key)
        case .interested:
            chokeRoundIfSlotsFree()
        case .requestWhileChoked(let block):
            if record.supportsFast { record.link.send(.reject(piece: block.piece.value, offset: block.offset, length: block.length)) }
        case .request(let block):
            serve(block, to: key, record, serving: &serving)
        case .cancel(let block):
            _ = record.link.cancelled.withLock { $0.insert(block) }
        case .block(let block, let data):
            receiveBlock(block, data: data, from: key)
        case .hashRequest(let request):
            // From the layers the torrent carries (BEP 52); refused for anything else.
            // Block hashes come from a piece we have, read back (one piece at most).
            let have = picker?.have
            let answer = metainfo.info.v2Pieces?.answer(request) { [storage] piece in
                have?[piece] == true ? try? storage.read(piece: piece) : nil
            } ?? .hashReject(request)
            let refused = if case .hashReject = answer { true } else { false }
            peerLogger(record.address, record.peerID, incoming: record.incoming).debug(refused ? "hash request refused" : "hash request answered",
                metadata: ["layer": "\(request.baseLayer)", "index": "\(request.index)", "length": "\(request.length)",
                           "proof": "\(request.proofLayers)"])
            record.link.send(answer)
        case .hashes(let request, let hashes):
            blameByBlockHashes(request, hashes, from: record)
        }
    }

    /// A request the conduct accepted: served, unless super-seeding hides the piece from this
    /// peer or the seed filter keeps our upload for pieces others cannot give.
    private func serve(_ block: BlockRequest, to key: Int, _ record: PeerRecord, serving: inout [BlockRequest]) {
        let index = block.piece.value
        let reject = PeerMessage.reject(piece: index, offset: block.offset, length: block.length)
        if let superSeeder, !superSeeder.mayServe(key, piece: index) {
            if record.supportsFast { record.link.send(reject) }
            return
        }
        if record.supportsFast, activity == .seeding, superSeeder == nil,
            seedFilter.shouldDecline(block, from: key, availability: picker?.availability[index] ?? 0, now: .now) {
            record.link.send(reject)
            return
        }
        // A cancel that arrived after we had already sent the block must not swallow a new
        // request for it.
        _ = record.link.cancelled.withLock { $0.remove(block) }
        serving.append(block)
    }

    /// Super-seeding: what a peer has may unlock new pieces to show to others; once every piece
    /// has reached someone, plain seeding takes over and everyone is told everything.
    func superSeedingSaw(_ key: Int, pieces: [Int]) {
        guard var seeder = superSeeder, let picker else { return }
        for piece in pieces {
            for (peer, next) in seeder.peerHas(key, piece: piece, availability: picker.availability) {
                peers[peer]?.link.send(.have(piece: next))
            }
        }
        if seeder.isFinished(availability: picker.availability) {
            superSeeder = nil
            for record in peers.values {
                for piece in 0..<metainfo.info.pieceCount { record.link.send(.have(piece: piece)) }
            }
        } else {
            superSeeder = seeder
        }
    }

    func receiveBlock(_ block: BlockRequest, data: [UInt8], from key: Int) {
        let now = ContinuousClock.now
        guard let arrival = picker?.received(block, from: key) else { return }
        guard arrival.accepted else { return fillRequests(key) }  // unrequested or duplicate: dropped
        downloadedBytes += Int64(data.count)
        downMeter.add(data.count, now: now)
        if let record = peers[key] {
            record.downMeter.add(data.count, now: now)
            record.conduct.blockArrived(now: now)
        }
        startVerifyLoop()
        wroteBlocks = true
        writer.enqueue(.block(block.piece, offset: block.offset, data: data))
        if arrival.pieceComplete { writer.enqueue(.complete(block.piece, keep: suspects[block.piece.value] != nil)) }
        for (other, duplicate) in arrival.cancels {
            peers[other]?.link.send(.cancel(piece: duplicate.piece.value, offset: duplicate.offset, length: duplicate.length))
        }
        fillRequests(key)
    }

    /// Tops up the peer's request pipeline to a depth that matches its rate.
    func fillRequests(_ key: Int) {
        guard let record = peers[key], !record.closing, record.amInterested, let outstanding = picker?.outstandingCount(key),
            activity == .downloading, pendingWriteBytes < Self.pendingWriteLimit
        else { return }
        // Choked, a fast peer still serves the pieces it allowed us.
        guard !record.peerChoking || !record.allowedFast.isEmpty else { return }
        var meter = record.downMeter
        let depth = RequestPipeline.depth(downloadRate: meter.rate(now: .now), isSnubbed: record.isSnubbed)
        // Pieces waiting for the disk count against the budget too: together they are what a
        // download holds in memory.
        let held = (picker?.totalOutstanding ?? 0) + pendingWriteBytes / TorrentGeometry.blockLength
        let wanted = RequestPipeline.topUp(depth: depth, outstanding: outstanding, torrentOutstanding: held)
        guard wanted > 0,
            let blocks = picker?.pick(for: key, count: wanted, only: record.peerChoking ? record.allowedFast : nil,
                                      excluding: record.refused, using: &rng)
        else { return }
        record.link.send(blocks.map { .request(piece: $0.piece.value, offset: $0.offset, length: $0.length) })
    }

    func updateInterest(_ key: Int) {
        guard let record = peers[key], let picker else { return }
        let interesting = picker.isInteresting(key) && activity == .downloading
        if interesting != record.amInterested {
            peers[key]?.amInterested = interesting
            record.link.send(interesting ? .interested : .notInterested)
        }
    }

    func dropIfBothSeeds(_ key: Int) {
        guard let picker, picker.isDone, picker.peerBitfield(key)?.isComplete == true else { return }
        drop(key, CloseReason(.bothSeeds))
    }

    /// Closes a connection for `reason`, which is what its close is counted and logged as
    /// (whatever the socket says when it ends).
    func drop(_ key: Int, _ reason: CloseReason) {
        guard let record = peers[key], !record.closing else { return }
        record.closing = true
        record.closeReason = reason
        picker?.peerLeft(key)
        record.link.close()
    }
}
