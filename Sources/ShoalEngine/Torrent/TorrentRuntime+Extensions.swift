import ShoalCore

/// The extension protocol (BEP 10) on a torrent with its metadata: the extension handshake,
/// serving the info dictionary to peers that came by magnet (BEP 9), and peer exchange (BEP 11).
extension TorrentRuntime {
    /// Peer exchange stays off for private torrents, whose peers come only from their tracker.
    var pexAllowed: Bool { config.pexEnabled && !metainfo.info.isPrivate }

    func extensionHandshake(for address: PeerAddress) -> ExtensionHandshake {
        var ids = ["ut_metadata": ExtensionHandshake.utMetadata]
        if pexAllowed { ids["ut_pex"] = ExtensionHandshake.utPex }
        let yourIP = address.compact.map { Array($0.dropLast(2)) }
        return ExtensionHandshake(messageIDs: ids, client: ShoalVersion.createdBy, listenPort: listenPort,
                                  requestQueue: PeerConduct.maxQueuedUploads, metadataSize: metainfo.rawInfo.count, yourIP: yourIP)
    }

    /// Serves a piece of the info dictionary the conduct let through.
    func serveMetadata(_ piece: Int, replyID: UInt8, to record: PeerRecord) {
        let info = metainfo.rawInfo
        let start = piece * MetadataMessage.pieceSize
        let reply: MetadataMessage = start >= 0 && start < info.count
            ? .data(piece: piece, totalSize: info.count, bytes: Array(info[start..<min(info.count, start + MetadataMessage.pieceSize)]))
            : .reject(piece: piece)
        record.link.send(.extended(id: replyID, payload: reply.encoded))
    }

    /// Sends each peer that speaks ut_pex the peers connected and dropped since its last
    /// message, at most once per `pexInterval`.
    func sendPeerExchange(now: ContinuousClock.Instant) {
        guard pexAllowed else { return }
        let connected = Dictionary(peers.compactMap { key, record in record.dialableAddress.map { ($0, key) } },
                                   uniquingKeysWith: { first, _ in first })
        for (key, record) in peers {
            guard let theirs = record.extensions?.id(of: "ut_pex") else { continue }
            if let last = record.pexSentAt, now - last < config.pexInterval { continue }
            let others = Set(connected.keys).subtracting([record.dialableAddress].compactMap { $0 })
            let added = Array(others.subtracting(record.pexSent).sorted().prefix(PexMessage.maxPeers))
            let dropped = Array(record.pexSent.subtracting(others).sorted().prefix(PexMessage.maxPeers))
            guard !added.isEmpty || !dropped.isEmpty else { continue }
            let flags = added.map { address -> UInt8 in
                guard let other = connected[address], let otherRecord = peers[other] else { return 0 }
                let seed = picker?.peerBitfield(other)?.isComplete == true ? PexMessage.seedFlag : 0
                return seed | (otherRecord.incoming ? 0 : PexMessage.reachableFlag)
            }
            record.link.send(.extended(id: theirs, payload: PexMessage(added: added, addedFlags: flags, dropped: dropped).encoded))
            peers[key]?.pexSent = record.pexSent.union(added).subtracting(dropped)
            peers[key]?.pexSentAt = now
        }
    }
}

/// The DHT for one torrent: look it up and announce ourselves now and then; never for private
/// torrents, whose peers come only from their tracker.
extension TorrentRuntime {
    /// One DHT announce: at start, then whenever the tick finds `nextDHTAnnounce` reached; a
    /// moved listen port (`listenPortMoved`) brings the next one forward. The peers it finds are
    /// dialled.
    func dhtAnnounce() async {
        guard let dht else { return }
        let (found, acceptedBy) = await dht.announceCounted(metainfo.infoHash, port: listenPort)
        logger.debug("DHT announce", metadata: ["peers": "\(found.count)", "nodes": "\(acceptedBy)", "port": "\(listenPort)"])
        addPeers(found, source: .dht)
        nextDHTAnnounce = .now + config.dhtAnnounceInterval
    }

    /// Called every tick.
    func wakeDHTIfDue(now: ContinuousClock.Instant) {
        guard let next = nextDHTAnnounce, now >= next else { return }
        nextDHTAnnounce = nil
        wakeDHTAnnounce()
    }

    /// The session listens on another port now: trackers and the DHT hear it as soon as each
    /// allows (a tracker's minimum interval and backoff still hold).
    public func listenPortMoved() {
        reannounce()
        // One under way may carry the old port: this wake runs another after it.
        nextDHTAnnounce = nil
        wakeDHTAnnounce()
    }
}
