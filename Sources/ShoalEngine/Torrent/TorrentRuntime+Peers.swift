import Foundation
import ShoalCore

/// Joining and leaving peers, the once-a-second tick, choking rounds and hash results.
extension TorrentRuntime {
    /// Accepts a connection whose handshake matched; nil means close it (counted and logged).
    func register(peerID: PeerID, address: PeerAddress, incoming: Bool, link: PeerLink, capabilities: PeerCapabilities) -> Int? {
        if !incoming { addresses[address]?.dialing = false }
        func refuse(_ reason: CloseReason) -> Int? {
            closeCounts.add(reason.kind)
            peerLogger(address, peerID, incoming: incoming).debug("refused", metadata: ["reason": "\(reason)"])
            return nil
        }
        guard let have = picker?.have, !isStopping, activity == .downloading || activity == .seeding else {
            return refuse(CloseReason(.stopped, "the torrent is \(isStopping ? "stopping" : activity.rawValue)"))
        }
        if peerID == config.peerID {
            if !incoming { addresses[address]?.isSelf = true }
            return refuse(CloseReason(.ourselves))
        }
        guard !bannedIDs.contains(peerID) else { return refuse(CloseReason(.banned, "its id was banned for bad data")) }
        guard !bannedHosts.contains(address.host) else { return refuse(CloseReason(.banned, "its address was banned by the user")) }
        let now = ContinuousClock.now
        switch slots.admit(incoming: incoming, among: slotPeers, now: now) {
        case .admit: break
        case .replace(let victim):
            drop(victim, CloseReason(.enoughPeers, "made room for a new peer: neither side interested for \(now - (peers[victim]?.usefulAt ?? now))"))
        case .refuse:
            return refuse(CloseReason(.enoughPeers, "all \(peerLimit) slots taken"))
        }
        guard peerBudget.take() else { return refuse(CloseReason(.enoughPeers, "the session-wide connection limit is reached")) }
        var budgetHeld = true
        defer { if budgetHeld { peerBudget.give() } }
        // Two peers that dial each other at once end up with two connections. Both sides keep the
        // one opened by the peer with the lower id, so they agree without talking about it.
        if let (existingKey, existing) = peers.first(where: { $0.value.peerID == peerID && !$0.value.closing }) {
            let newInitiator = incoming ? peerID : config.peerID
            let oldInitiator = existing.incoming ? peerID : config.peerID
            guard newInitiator.bytes.lexicographicallyPrecedes(oldInitiator.bytes) else {
                return refuse(CloseReason(.duplicate, "already connected to this peer"))
            }
            // Dropped like any other connection: the picker forgets it and its requests. (It
            // was only unlisted here, so the picker kept its requests — and on parole its
            // pieces — for a connection that was gone, and the download stalled.)
            drop(existingKey, CloseReason(.duplicate, "replaced by a second connection from the same peer"))
        }
        let key = nextKey
        nextKey += 1
        let record = PeerRecord(peerID: peerID, address: address, incoming: incoming, link: link, now: .now,
                                source: incoming ? .incoming : addresses[address]?.source ?? .tracker, supportsFast: capabilities.fast)
        peerIDsByKey[key] = peerID
        if !incoming { addresses[address]?.connected = true }
        self.picker?.peerJoined(key, has: Bitfield(count: metainfo.info.pieceCount))
        // Parole follows the peer across reconnections.
        if paroleIDs.contains(peerID) { self.picker?.putOnParole([key]) }
        // What we have, the extension handshake, the allowed fast set, our DHT port (see
        // `PeerConduct.opening`); a super-seed then shows the peer its one piece.
        link.fast.store(capabilities.fast, ordering: .relaxed)
        var allowed: [Int] = []
        if capabilities.fast && superSeeder == nil {
            // Pieces it may take from us even while choked (BEP 6), among those we have.
            allowed = AllowedFastSet.pieces(for: address.host, infoHash: metainfo.infoHash, pieceCount: metainfo.info.pieceCount,
                                            count: Self.allowedFastCount).filter { have[$0] }
            record.conduct.allowedFastGiven = Set(allowed)
            link.allowedWhileChoked.withLock { $0 = Set(allowed) }
        }
        link.send(PeerConduct.opening(have: have, fast: capabilities.fast, superSeeding: superSeeder != nil,
                                      extensionHandshake: capabilities.extensions ? extensionHandshake(for: address).encoded : nil,
                                      allowedFast: allowed, dhtPort: capabilities.dht ? dht.map { UInt16($0.port) } : nil))
        if var seeder = superSeeder {
            if let piece = seeder.peerJoined(key, has: [], availability: picker?.availability ?? []) { link.send(.have(piece: piece)) }
            superSeeder = seeder
        }
        peers[key] = record
        noteChange()
        // Its keep-alives, timeouts, requests and peer exchange are the tick's: once a second now.
        tickTimer.ring()
        peerLogger(address, peerID, incoming: incoming).debug("connected", metadata: ["encrypted": "\(link.encrypted)", "utp": "\(link.utp)"])
        budgetHeld = false  // the slot is the connection's now, given back when it goes
        return key
    }

    static let allowedFastCount = 10

    /// A registered connection ended; `reason` is what the socket said, unless we dropped it
    /// for a reason of our own.
    func disconnected(_ key: Int, reason: CloseReason) {
        sampleUploads(now: .now)
        guard let record = peers.removeValue(forKey: key) else { return }
        defer { noteChange() }
        let why = record.closeReason ?? reason
        closeCounts.add(why.kind)
        peerLogger(record.address, record.peerID, incoming: record.incoming)
            .debug("closed", metadata: ["reason": "\(why)", "downloaded": "\(record.downMeter.total)", "uploaded": "\(record.uploadedSampled)"])
        peerBudget.give()
        superSeeder?.peerLeft(key)
        seedFilter.peerLeft(key)
        picker?.peerLeft(key)
        if !record.incoming, var state = addresses[record.address] {
            state.connected = false
            state.nextTry = .now + .seconds(10)
            addresses[record.address] = state
        }
        chokeRoundIfSlotsFree()
    }

    /// Moves the bytes connections have sent into the torrent's counters and meters.
    /// The bytes moved since the last sample, spread over that time (see `RateMeter`).
    func sampleUploads(now: ContinuousClock.Instant) {
        let since = lastUploadSample
        lastUploadSample = now
        for (key, record) in peers {
            let uploaded = record.link.uploadedBytes.load(ordering: .relaxed)
            let delta = uploaded - record.uploadedSampled
            guard delta > 0 else { continue }
            peers[key]?.upMeter.add(Int(delta), since: since, now: now)
            peers[key]?.uploadedSampled = uploaded
            upMeter.add(Int(delta), since: since, now: now)
            uploadedBytes += delta
        }
    }

    /// The torrent's slot policy (see `PeerSlots`).
    var slots: PeerSlots {
        PeerSlots(limit: peerLimit, replaceAfter: config.slotReplaceAfter, dropAfter: config.uselessPeerTimeout)
    }

    /// A new connection limit: the peers over it, and `surplus` more (the torrent's share of
    /// what the session holds over its own limit), close now, the least useful first.
    public func setPeerLimit(_ limit: Int, closingSurplus surplus: Int = 0) {
        peerLimit = limit
        let connected = slotPeers
        let keep = max(0, min(limit, connected.count - surplus))
        for key in slots.surplus(connected, keeping: keep) {
            drop(key, CloseReason(.enoughPeers, connected.count - surplus < limit
                ? "the session-wide connection limit was lowered to \(peerBudget.limit)"
                : "the torrent's connection limit was lowered to \(limit)"))
        }
    }

    /// Connected peers as the slot policy sees them (those being dropped no longer count).
    var slotPeers: [PeerSlots.Peer] {
        peers.compactMap { key, record in
            record.closing ? nil : PeerSlots.Peer(key: key, incoming: record.incoming, usefulAt: record.usefulAt)
        }
    }

    func tick(now: ContinuousClock.Instant) {
        sampleUploads(now: now)
        noteActivity()
        for record in peers.values where record.amInterested || record.peerInterested { record.usefulAt = now }
        for key in slots.expired(slotPeers, now: now) {
            drop(key, CloseReason(.useless, "for \(config.uselessPeerTimeout)"))
        }
        // Silent peers go, and so do peers stuck half-way through a message (slowloris). A peer
        // that has sent nothing for a minute while we wait on it (anti-snubbing) loses its
        // requests to others and gets only one at a time.
        let timeouts = PeerConduct.Timeouts(idle: config.peerIdleTimeout, snub: config.snubTimeout)
        for (key, record) in peers where !record.closing {
            switch record.conduct.tick(now: now, waitingOnIt: (picker?.outstandingCount(key) ?? 0) > 0, timeouts: timeouts) {
            case .snubbed?: picker?.release(key)
            case .close(let reason)?: drop(key, reason)
            case nil: break
            }
        }
        for (key, record) in peers {
            if let since = record.refusedSince, now - since >= PeerRecord.refusalMemory {
                peers[key]?.refused = []
                peers[key]?.refusedSince = nil
            }
        }
        if activity == .seeding, !peers.isEmpty, let picker { seedFilter.recount(availability: picker.availability, now: now) }
        if now - lastKeepAlive >= .seconds(90) {
            lastKeepAlive = now
            for record in peers.values { record.link.send(.keepAlive) }
        }
        if lastChokeRound.map({ now - $0 >= Choker.roundInterval }) ?? true { chokeRound(now: now) }
        if lastResumeSave.map({ now - $0 >= resumeSaveInterval }) ?? true {
            if checkFilesInPlace() { saveResume() }
        }
        checkSeedingGoals()
        for key in peers.keys { fillRequests(key) }
        startWebSeedsIfDue(now: now)
        sendPeerExchange(now: now)
        dialMore(now: now)
        wakeAnnouncerIfDue(now: now)
        wakeDHTIfDue(now: now)
        wakeScrapeIfDue(now: now)
        if lastSenderSweep.map({ now - $0 >= .seconds(60) }) ?? true { forgetGoneSenders(now: now) }
    }

    /// Connections registered, and connection ids remembered (for tests of what stays bounded).
    var connectionCount: Int { peers.count }
    /// Connections not already on their way out.
    var openConnectionCount: Int { peers.values.filter { !$0.closing }.count }
    var rememberedSenders: Int { peerIDsByKey.count }

    /// Drops the ids of connections that are gone and sent nothing still unchecked: kept for
    /// ever, they grew by one entry per connection for as long as the torrent ran.
    func forgetGoneSenders(now: ContinuousClock.Instant) {
        lastSenderSweep = now
        let keep = Set(peers.keys).union(picker?.senderKeys ?? []).union(webSeedKeys)
        peerIDsByKey = peerIDsByKey.filter { keep.contains($0.key) }
    }

    /// A seeding torrent that reached its ratio or time goal stops seeding (it stays complete,
    /// shown as finished, and stays so after a restart).
    func checkSeedingGoals() {
        guard activity == .seeding, let completedAt else { return }
        let uploaded = Double(uploadedBase + uploadedBytes)
        let ratioReached = seedRatioLimit.map { uploaded >= $0 * Double(max(1, metainfo.info.totalLength)) } ?? false
        let timeReached = config.seedTimeLimit.map { Date().timeIntervalSince(completedAt) >= Double($0.components.seconds) } ?? false
        if ratioReached || timeReached { setSeeding(false) }
    }

    public func setSeedRatioLimit(_ ratio: Double?) {
        seedRatioLimit = ratio
        checkSeedingGoals()
    }

    /// Unchokes an interested peer at once when there is a free slot, rather than at the next round.
    func chokeRoundIfSlotsFree() {
        let unchoked = peers.values.filter { !$0.amChoking }.count
        let slots = picker?.isDone == true ? seedSlots : config.uploadSlots + 1
        if unchoked < slots { chokeRound(now: .now) }
    }

    /// Seeding with no upload cap, bandwidth is not what slots ration: every interested peer
    /// gets one. Under a cap, the configured slots (plus the optimistic one) take turns.
    var seedSlots: Int {
        let capped = uploadLimiter.rate > 0 || globalUpload.rate > 0
        return capped ? config.uploadSlots + 1 : peerLimit
    }

    func chokeRound(now: ContinuousClock.Instant) {
        lastChokeRound = now
        guard let picker else { return }
        let seeding = picker.isDone
        let samples = peers.map { key, record in
            var down = record.downMeter
            var up = record.upMeter
            return Choker.Sample(peer: key, isInterested: record.peerInterested, downloadRate: down.rate(now: now),
                                 uploadRate: up.rate(now: now), isSnubbed: record.isSnubbed)
        }
        let allowed = activity == .seeding || activity == .downloading
        choker.seedSlots = seedSlots
        let unchoke = allowed ? choker.round(samples, seeding: seeding, now: now, using: &rng) : []
        for (key, record) in peers {
            if unchoke.contains(key) && record.amChoking {
                record.conduct.unchoked()
                record.link.send(.unchoke)
            } else if !unchoke.contains(key) && !record.amChoking {
                record.conduct.choked()
                record.link.choke()
            }
        }
    }

    /// Takes the hash checks of completed pieces as the writer reports them.
    /// Takes in the writer's hash results. Started with the first block written (a seed never
    /// writes, and a task waiting for nothing cost each idle torrent 2.5 KiB); running from
    /// the moment it is asked for, so `stop()` waits for it even before its task has begun.
    func startVerifyLoop() {
        guard !verifyLoopRunning else { return }
        verifyLoopRunning = true
        jobQueue.submit(.verify)
    }

    func verifyLoop() async {
        for await outcome in writer.outcomes {
            pieceChecked(outcome.piece, outcome.result, data: outcome.data)
        }
        verifyLoopEnded()
    }

    /// Also called when `run()` ends, for a loop asked for whose task never began.
    func verifyLoopEnded() {
        verifyLoopRunning = false
        for waiter in verifyLoopWaiters { waiter.resume() }
        verifyLoopWaiters.removeAll()
    }

    /// Returns once every hash result the writer reported has been taken in (after the writer
    /// finished): what `stop()` records as verified is then all there is.
    func waitForVerifyLoop() async {
        guard verifyLoopRunning else { return }
        await withCheckedContinuation { verifyLoopWaiters.append($0) }
    }

    func pieceChecked(_ piece: PieceIndex, _ result: Result<Bool, StorageError>, data: [UInt8]?) {
        // Room again for requests held back while the disk caught up (a web seed's connection
        // ends when the disk is behind: it starts again here, not a tick later).
        defer {
            for key in peers.keys { fillRequests(key) }
            startWebSeedsIfDue(now: .now)
        }
        guard picker != nil else { return }
        switch result {
        case .success(true):
            events.pieceVerified()
            let contributors = picker?.pieceVerified(piece) ?? []
            // A peer on parole that delivered a good piece alone is trusted again.
            for key in contributors where picker?.parole.contains(key) == false {
                if let id = peerIDsByKey[key] { paroleIDs.remove(id) }
            }
            if let failed = suspects.removeValue(forKey: piece.value), let data { convict(failed, good: data) }
            // Seeds are told too: a seed learns from haves which pieces are out (see
            // `SeedRequestFilter`), as libtorrent's redundant haves do.
            for (key, record) in peers {
                record.link.send(.have(piece: piece.value))
                updateInterest(key)
            }
            updateCompletion()
        case .success(false):
            let senders = picker?.pieceFailed(piece) ?? []
            hashFailures += 1
            let ids = senders.map { $0.flatMap { peerIDsByKey[$0] } }
            let distinct = Set(ids.compactMap { $0 })
            if distinct.count == 1, !ids.contains(where: { $0 == nil }), let only = distinct.first {
                ban(only)  // every block came from one peer: it sent the bad data
            } else {
                // Keep the bad copy; when the piece verifies, the blocks that differ name the liars.
                suspects[piece.value] = SuspectPiece(data: data ?? [], senders: ids)
                // A v2 torrent need not wait: its blocks' hashes, from any peer, name them now.
                askForBlockHashes(piece, SuspectPiece(data: data ?? [], senders: ids))
                // Everyone who sent part of it gets whole pieces alone from now on: the liar's
                // next piece has one sender and names it, at any rate (see `PiecePicker`).
                let keys = Set(senders.compactMap { $0 })
                picker?.putOnParole(keys)
                paroleIDs.formUnion(distinct)
                for key in keys { fillRequests(key) }
            }
        case .failure(let error):
            _ = picker?.pieceFailed(piece)
            // Writes queued behind the one that failed fail too: one report is enough. A file
            // that vanished takes its verified pieces with it (and names itself as the reason).
            if activity != .error, checkFilesInPlace() { fail("disk error: \(error.description)") }
        }
    }

    /// Compares a failed copy of a piece with the verified one, block by block.
    private func convict(_ failed: SuspectPiece, good: [UInt8]) {
        let block = TorrentGeometry.blockLength
        for (number, sender) in failed.senders.enumerated() {
            guard let sender else { continue }
            let range = number * block..<min(good.count, (number + 1) * block)
            if failed.data[range] != good[range] { ban(sender) }
        }
    }

    func ban(_ peerID: PeerID) {
        guard bannedIDs.insert(peerID).inserted else { return }
        banOrder.append(peerID)
        if banOrder.count > Self.maxBans { bannedIDs.remove(banOrder.removeFirst()) }
        if bannedAddresses.count > Self.maxBans { bannedAddresses.removeAll() }
        let reason = CloseReason(.badData, "sent data that failed the hash check")
        var addresses: [String] = []
        for (key, record) in peers where record.peerID == peerID {
            if !record.incoming { bannedAddresses.insert(record.address) }
            addresses.append(record.address.description)
            drop(key, reason)
        }
        if let index = webSeeding?.index(of: peerID) {
            dropWebSeed(index, reason: reason.detail)
            events.publish(.banned(infoHash, peer: webSeeding?.schedule.servers[index].url ?? "web seed", reason: reason.detail))
            return
        }
        let peer = (addresses.first ?? "gone") + " (\(peerID.clientName))"
        logger.notice("banned \(peer)", metadata: ["reason": "\(reason)", "client": "\(peerID.clientName)"])
        events.publish(.banned(infoHash, peer: peer, reason: reason.detail))
    }
}

extension TorrentRuntime {
    /// The user closes the connection to `address` (the Peers tab's `k`), or bans its host
    /// (`K`): refused and never dialled again while the torrent runs. False when no such peer.
    func closePeer(address: String, ban: Bool) -> Bool {
        let matching = peers.filter { $0.value.address.description == address }
        guard let host = matching.first?.value.address.host else { return false }
        let reason = ban ? CloseReason(.banned, "banned by the user") : CloseReason(.byUser, "closed by the user")
        if ban {
            bannedHosts.insert(host)
            logger.notice("banned \(host) by the user", metadata: ["peer": "\(address)"])
        }
        for key in matching.keys { drop(key, reason) }
        return true
    }
}

extension TorrentRuntime {
    /// Peers asked for a failed v2 piece's block hashes: a few, so a liar among them cannot
    /// stall it (an answer that does not hash to the piece's own hash is dropped).
    static let blockHashAskers = 3
    static let maxBlockHashAsks = 16

    func askForBlockHashes(_ piece: PieceIndex, _ suspect: SuspectPiece) {
        guard let request = metainfo.info.v2Pieces?.blockHashRequest(for: piece), !suspect.data.isEmpty else { return }
        if blockHashAsks.count >= Self.maxBlockHashAsks, let oldest = blockHashAsks.keys.first { blockHashAsks[oldest] = nil }
        blockHashAsks[request] = suspect
        for record in peers.values.filter({ !$0.closing }).prefix(Self.blockHashAskers) { record.link.send(.hashRequest(request)) }
    }

    /// An answer to `askForBlockHashes`: if it proves out against the piece's hash, the senders
    /// of the blocks whose hashes differ are banned, from those blocks alone.
    func blameByBlockHashes(_ request: HashRequest, _ hashes: [UInt8], from record: PeerRecord) {
        guard let suspect = blockHashAsks[request], let v2 = metainfo.info.v2Pieces,
            let piece = metainfo.info.geometry.piece(pieceOf(request))
        else { return }
        guard let bad = v2.badBlocks(in: suspect.data, piece: piece, answer: hashes) else {
            // Another asked peer may still answer truly; the v1 way runs meanwhile.
            peerLogger(record.address, record.peerID, incoming: record.incoming).info("block hashes that do not hash to the piece's",
                                                                                    metadata: ["piece": "\(piece.value)"])
            return
        }
        blockHashAsks[request] = nil
        suspects[piece.value] = nil
        let liars = Set(bad.compactMap { suspect.senders.indices.contains($0) ? suspect.senders[$0] : nil })
        peerLogger(record.address, record.peerID, incoming: record.incoming).debug("block hashes answered", metadata: [
            "piece": "\(piece.value)", "bad blocks": "\(bad)"])
        for liar in liars { ban(liar) }
    }

    private func pieceOf(_ request: HashRequest) -> Int {
        guard let first = metainfo.info.v2Pieces?.firstPiece(ofRoot: request.piecesRoot) else { return -1 }
        return first + request.index * MerkleTree.blockSize / metainfo.info.pieceLength
    }
}

/// A piece that failed its hash with blocks from several peers.
struct SuspectPiece {
    let data: [UInt8]
    let senders: [PeerID?]
}
