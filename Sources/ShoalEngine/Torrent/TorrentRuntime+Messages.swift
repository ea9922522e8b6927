import ShoalCore

/// Reacting to what peers send (BEP 3). Anything that breaks the protocol closes the connection.
extension TorrentRuntime {
    /// Queued uploads per peer before its requests count as a flood; also what we advertise as
    /// `reqq`. libtorrent's own limit: its leechers keep as many requests in flight as a peer
    /// allows. A queued request is a few bytes; blocks are read only as they are sent.
    static let maxQueuedUploads = 2000
    /// Messages waiting for a peer's socket beyond this (4 MiB, hundreds of metadata replies)
    /// mean it asks and does not read: it is dropped rather than held in memory.
    static let maxUnsentBytes = 4 << 20
    static let maxRequestsWhileChoked = 256

    /// The messages one read brought: one hop onto the actor for all of them, and the blocks
    /// they request queued for the connection's writer at once.
    func handle(_ messages: [PeerMessage], from key: Int) {
        var serving: [BlockRequest] = []
        for message in messages { handle(message, from: key, serving: &serving) }
        if !serving.isEmpty, let record = peers[key], !record.closing { record.link.serve(serving) }
    }

    func handle(_ message: PeerMessage, from key: Int, serving: inout [BlockRequest]) {
        // The picker is mutated in place (`picker?.…`): a local copy would make every change copy it.
        guard let record = peers[key], !record.closing, picker != nil else { return }
        let geometry = metainfo.info.geometry
        let first = !record.sawFirstMessage
        // The have-message slot (bitfield, have all/none) is the first after the handshake; an
        // extension handshake some clients send before it does not take the slot.
        if case .extended = message {} else { record.sawFirstMessage = true }
        record.lastMessageAt = .now
        switch message {
        case .keepAlive, .unknown, .suggest:
            break  // a suggestion is only a hint; the picker keeps its own order
        case .port(let port):
            // The peer's DHT node (BEP 5): worth a ping when we run the DHT.
            if let dht, port > 0 { dht.suggest(PeerAddress(host: record.address.host, port: port)) }
        case .extended(let id, let payload):
            handleExtended(id, payload, from: key)
        case .haveAll, .haveNone:
            guard record.supportsFast, first else { return drop(key, .violation("have all/none without the fast extension or late")) }
            let bits = Bitfield(count: geometry.pieceCount, allSet: message == .haveAll)
            picker?.peerJoined(key, has: bits)
            superSeedingSaw(key, pieces: Array(bits.setIndices))
            updateInterest(key)
            dropIfBothSeeds(key)
        case .reject(let index, let offset, let length):
            guard record.supportsFast else { return drop(key, .violation("reject without the fast extension")) }
            guard let block = geometry.request(piece: index, offset: offset, length: length) else {
                return drop(key, .violation("reject \(index)+\(offset)/\(length) out of bounds"))
            }
            // The block goes back to the pool; another peer (or this one later) gets asked.
            picker?.unrequest(block, by: key)
            // Refused while unchoked: the peer does not want to send that piece now (a seed
            // keeping its upload for pieces nobody else has). Ask it for others meanwhile.
            if !record.peerChoking {
                if record.refused.isEmpty { peers[key]?.refusedSince = .now }
                peers[key]?.refused.insert(index)
                fillRequests(key)
            }
        case .allowedFast(let index):
            guard record.supportsFast else { return drop(key, .violation("allowed fast without the fast extension")) }
            guard geometry.piece(index) != nil else { return }
            peers[key]?.allowedFast.insert(index)
            fillRequests(key)
        case .choke:
            peers[key]?.peerChoking = true
            picker?.release(key)
        case .unchoke:
            peers[key]?.peerChoking = false
            fillRequests(key)
        case .interested:
            peers[key]?.peerInterested = true
            chokeRoundIfSlotsFree()
        case .notInterested:
            peers[key]?.peerInterested = false
        case .have(let value):
            guard let piece = geometry.piece(value) else { return drop(key, .violation("have for piece \(value) out of range")) }
            picker?.peerHas(key, piece: piece)
            superSeedingSaw(key, pieces: [piece.value])
            updateInterest(key)
            fillRequests(key)
            dropIfBothSeeds(key)
        case .bitfield(let bytes):
            guard let bits = Bitfield(bytes: bytes, count: geometry.pieceCount) else {
                return drop(key, .violation("bitfield of the wrong size or with spare bits set"))
            }
            // BEP 3 puts the bitfield first; aria2 sometimes sends one later. Taking it as a batch
            // of `have`s is safe and keeps such peers useful.
            if first { picker?.peerJoined(key, has: bits) } else { picker?.peerHas(key, bitfield: bits) }
            superSeedingSaw(key, pieces: Array(bits.setIndices))
            updateInterest(key)
            dropIfBothSeeds(key)
        case .request(let index, let offset, let length):
            guard let block = geometry.request(piece: index, offset: offset, length: length) else {
                return drop(key, .violation("request \(index)+\(offset)/\(length) out of bounds"))
            }
            guard activity == .seeding || activity == .downloading else { return }
            if record.amChoking && !record.allowedFastGiven.contains(index) {
                if record.supportsFast { record.link.send(.reject(piece: index, offset: offset, length: length)) }
                peers[key]?.requestsWhileChoked += 1
                if record.requestsWhileChoked >= Self.maxRequestsWhileChoked { drop(key, CloseReason(.flood, "\(Self.maxRequestsWhileChoked) requests while choked")) }
                return
            }
            guard picker?.have[block.piece] == true else { return drop(key, .violation("request for piece \(index), which we do not have")) }
            if let superSeeder, !superSeeder.mayServe(key, piece: index) {
                // Not shown to this peer (super-seeding): refused, not served.
                if record.supportsFast { record.link.send(.reject(piece: index, offset: offset, length: length)) }
                return
            }
            if record.supportsFast, activity == .seeding, superSeeder == nil,
                seedFilter.shouldDecline(block, from: key, availability: picker?.availability[index] ?? 0, now: .now) {
                record.link.send(.reject(piece: index, offset: offset, length: length))
                return
            }
            guard record.link.queuedUploads.load(ordering: .relaxed) + serving.count < Self.maxQueuedUploads else {
                return drop(key, CloseReason(.flood, "over \(Self.maxQueuedUploads) requests outstanding"))
            }
            // A cancel that arrived after we had already sent the block must not swallow a new
            // request for it.
            _ = record.link.cancelled.withLock { $0.remove(block) }
            serving.append(block)
        case .cancel(let index, let offset, let length):
            if let block = geometry.request(piece: index, offset: offset, length: length) {
                _ = record.link.cancelled.withLock { $0.insert(block) }
            }
        case .piece(let index, let offset, let data):
            guard let block = geometry.request(piece: index, offset: offset, length: data.count) else {
                return drop(key, .violation("block \(index)+\(offset)/\(data.count) out of bounds"))
            }
            receiveBlock(block, data: data, from: key)
        }
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

    private func receiveBlock(_ block: BlockRequest, data: [UInt8], from key: Int) {
        let now = ContinuousClock.now
        guard let arrival = picker?.received(block, from: key) else { return }
        guard arrival.accepted else { return fillRequests(key) }  // unrequested or duplicate: dropped
        downloadedBytes += Int64(data.count)
        downMeter.add(data.count, now: now)
        if let record = peers[key] {
            record.downMeter.add(data.count, now: now)
            record.lastBlockAt = now
            record.isSnubbed = false
        }
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
        let wanted = RequestPipeline.wanted(depth: depth, outstanding: outstanding, torrentOutstanding: held)
        // A deep pipeline is topped up in batches (an eighth of its depth, up to 16 blocks), not
        // a request per arriving block: one write for many requests.
        guard wanted > 0, outstanding == 0 || wanted >= max(1, min(depth / 8, 16)),
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
