import ShoalCore

extension TorrentRuntime {
    /// Something a quiet torrent's snapshot shows may have changed: its tick, an announce, a
    /// scrape or a DHT announce ending, a peer coming or going, a dial failing, an error. The
    /// session hands out the snapshot it kept while the count stays and the torrent is quiet
    /// (see `Session.sharedSnapshots`): 100,000 idle torrents are not asked twice a second.
    /// Commands reach it through the session, which drops what it kept on any of them.
    func noteChange() {
        snapshotChanges.add(1, ordering: .releasing)
        let quiet = peers.isEmpty && webSeedsInFlight == 0 && activity != .checking && !addresses.values.contains { $0.dialing }
        isQuiet.store(quiet, ordering: .releasing)
        reportKeptSnapshotWrong()
    }

    /// A snapshot the session keeps of this torrent is wrong now: said once, to the session
    /// that kept it (it watches again when it keeps the next).
    nonisolated func reportKeptSnapshotWrong() {
        keptWatcher.withLock { watcher in
            defer { watcher = nil }
            return watcher
        }?.invalidate()
    }

    /// Without `detailed`: no availability, pieces in progress, files or peers' bitfields.
    public func snapshot(detailed: Bool = true) -> TorrentSnapshot {
        let now = ContinuousClock.now
        sampleUploads(now: now)
        let info = metainfo.info
        let geometry = info.geometry
        // One copy of the picker for the whole snapshot: each `picker?.x` copied all of it (its
        // every buffer retained and released), once per peer for their bitfields.
        let picker = self.picker
        let have = picker?.have ?? restingHave ?? Bitfield(count: info.pieceCount)
        let (wantedSize, haveSize) = wantedAndHave(have)
        let downRate = downMeter.rate(now: now)
        let upRate = upMeter.rate(now: now)
        let remaining = wantedSize - haveSize
        let eta: Int? = remaining > 0 && downRate > 1 ? Int(Double(remaining) / downRate) : nil
        // Dropped peers whose sockets are still closing are gone as far as the user is concerned.
        let peerList = peers.filter { !$0.value.closing }.sorted { $0.key < $1.key }.map { key, record -> PeerSnapshot in
            var down = record.downMeter
            var up = record.upMeter
            let bits = picker?.peerBitfield(key) ?? Bitfield(count: info.pieceCount)
            return PeerSnapshot(address: record.address.description, client: record.peerID.clientName,
                                flags: flags(key, record), downloadRate: down.rate(now: now), uploadRate: up.rate(now: now),
                                progress: Double(bits.setCount) / Double(max(1, bits.count)), pieces: detailed ? bits : Bitfield(count: 0))
        }
        let files = !detailed ? [] : info.files.enumerated().filter { !$0.element.isPadding }.map { index, file -> FileSnapshot in
            var fileHave: Int64 = 0
            for value in geometry.pieces(ofFile: index) where have[value] {
                let piece = geometry.piece(value)!
                let start = max(geometry.offset(of: piece), file.offset)
                let end = min(geometry.offset(of: piece) + Int64(geometry.length(of: piece)), file.offset + file.length)
                fileHave += max(0, end - start)
            }
            return FileSnapshot(path: file.displayPath, size: file.length, haveSize: fileHave, priority: filePriorities[index])
        }
        var details = TorrentDetails()
        details.sequential = sequential
        details.pieceLength = info.pieceLength
        details.isSingleFile = info.isSingleFile
        details.comment = metainfo.comment
        details.createdBy = metainfo.createdBy
        details.creationDate = metainfo.creationDate
        details.completed = completedAt
        details.lastActivity = lastActivity
        details.magnetURI = magnetURI
        details.webSeeds = webSeedSnapshots(now: now)
        return TorrentSnapshot(
            id: metainfo.infoHash, name: info.name, totalSize: info.totalLength, wantedSize: wantedSize, haveSize: haveSize,
            activity: activity, error: errorMessage, downloadRate: downRate, uploadRate: upRate,
            downloaded: downloadedBase + downloadedBytes, uploaded: uploadedBase + uploadedBytes, eta: eta, pieces: have,
            piecesInProgress: detailed ? picker?.piecesInProgress ?? [] : [], availability: detailed ? picker?.availability ?? [] : [],
            peers: peerList, trackers: trackers.states, files: files, downloadDirectory: storage.paths.first ?? "",
            isPrivate: info.isPrivate, hashFailures: hashFailures, bannedPeers: bannedIDs.count,
            piecesHashedOnCheck: checkedPieces.current, closeReasons: closeCounts, details: details)
    }

    private func flags(_ key: Int, _ record: PeerRecord) -> String {
        var out = ""
        if choker.optimistic == key { out += "O" }
        if record.amInterested { out += record.peerChoking ? "d" : "D" }
        if record.peerInterested { out += record.amChoking ? "u" : "U" }
        if !record.amChoking && !record.peerInterested { out += "K" }
        if !record.peerChoking && !record.amInterested { out += "?" }
        if record.link.encrypted { out += "E" }
        if record.link.utp { out += "T" }
        switch record.source {
        case .dht: out += "H"
        case .pex: out += "X"
        case .incoming: out += "I"
        case .tracker, .manual: break
        }
        return out
    }

    /// The torrent's magnet link, made again only when its trackers change (making it for every
    /// torrent in every snapshot was a tenth of an idle session's snapshot time).
    var magnetURI: String {
        if let cached = cachedMagnetURI, cached.edits == trackers.edits { return cached.uri }
        let uri = MagnetLink(infoHash: metainfo.infoHash, displayName: metainfo.info.name, trackers: trackers.tiers.flatMap { $0 },
                             v2Hash: metainfo.infoHashV2).uri
        cachedMagnetURI = (trackers.edits, uri)
        return uri
    }

    /// Bytes of the wanted pieces, and of those we have: summed again only when the pieces held
    /// or the file priorities changed (an idle torrent's snapshot walked all its pieces each time).
    func wantedAndHave(_ have: Bitfield) -> (wanted: Int64, have: Int64) {
        if let cached = cachedSizes, cached.have == have, cached.priorities == filePriorities { return (cached.wanted, cached.haveSize) }
        let geometry = metainfo.info.geometry
        var haveSize: Int64 = 0
        var wantedSize: Int64 = 0
        let priorities = FilePriority.piecePriorities(geometry: geometry, files: filePriorities)
        for piece in geometry.allPieces where priorities[piece.value] > .skip {
            let length = Int64(geometry.length(of: piece))
            wantedSize += length
            if have[piece] { haveSize += length }
        }
        cachedSizes = (have, filePriorities, wantedSize, haveSize)
        return (wantedSize, haveSize)
    }
}
