import ShoalCore

extension TorrentRuntime {
    public func snapshot() -> TorrentSnapshot {
        let now = ContinuousClock.now
        sampleUploads(now: now)
        let info = metainfo.info
        let geometry = info.geometry
        let have = currentHave ?? Bitfield(count: info.pieceCount)
        var haveSize: Int64 = 0
        var wantedSize: Int64 = 0
        let priorities = FilePriority.piecePriorities(geometry: geometry, files: filePriorities)
        for piece in geometry.allPieces where priorities[piece.value] > .skip {
            let length = Int64(geometry.length(of: piece))
            wantedSize += length
            if have[piece] { haveSize += length }
        }
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
                                progress: Double(bits.setCount) / Double(max(1, bits.count)), pieces: bits)
        }
        let files = info.files.enumerated().filter { !$0.element.isPadding }.map { index, file -> FileSnapshot in
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
        details.magnetURI = MagnetLink(infoHash: metainfo.infoHash, displayName: info.name, trackers: trackerTiers.flatMap { $0 }).uri
        return TorrentSnapshot(
            id: metainfo.infoHash, name: info.name, totalSize: info.totalLength, wantedSize: wantedSize, haveSize: haveSize,
            activity: activity, error: errorMessage, downloadRate: downRate, uploadRate: upRate,
            downloaded: downloadedBase + downloadedBytes, uploaded: uploadedBase + uploadedBytes, eta: eta, pieces: have,
            piecesInProgress: picker?.piecesInProgress ?? [], availability: picker?.availability ?? [],
            peers: peerList, trackers: trackerStates, files: files, downloadDirectory: storage.paths.first ?? "",
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
        switch record.source {
        case .dht: out += "H"
        case .pex: out += "X"
        case .incoming: out += "I"
        case .tracker, .manual: break
        }
        return out
    }
}
