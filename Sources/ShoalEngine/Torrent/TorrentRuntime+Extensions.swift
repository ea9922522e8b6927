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
    /// message, at most once per `pexInterval` (what to send is `PexPlanner`'s).
    func sendPeerExchange(now: ContinuousClock.Instant) {
        guard pexAllowed else { return }
        let interval = config.pexInterval
        guard self.peers.values.contains(where: {
            PexPlanner.due(pexID: $0.extensions?.id(of: "ut_pex"), lastSent: $0.pexSentAt, now: now, interval: interval)
        }) else { return }
        let peers = self.peers.map { key, record in
            PexPlanner.Peer(key: key, address: record.dialableAddress, pexID: record.extensions?.id(of: "ut_pex"),
                            lastSent: record.pexSentAt, told: record.pexSent,
                            isSeed: picker?.peerBitfield(key)?.isComplete == true, incoming: record.incoming)
        }
        for send in PexPlanner.sends(peers, now: now, interval: interval) {
            guard let record = self.peers[send.key] else { continue }
            record.link.send(send.message)
            record.pexSent = send.told
            record.pexSentAt = now
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
        var (found, acceptedBy) = await dht.announceCounted(metainfo.infoHash, port: listenPort)
        // A hybrid is announced under its v2 hash as well (BEP 52), as libtorrent does.
        if let alias = metainfo.hybridV2Alias {
            let (more, acceptedMore) = await dht.announceCounted(alias, port: listenPort)
            found += more
            acceptedBy += acceptedMore
        }
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
