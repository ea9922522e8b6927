import Foundation
import ShoalCore

/// Magnet links in the session: an entry in its metadata phase, added, shown, paused and saved
/// like any torrent while its info dictionary is fetched, then turned into the torrent it
/// describes in place (its position, directory, limits and the peers found so far kept).
extension Session {
    @discardableResult
    public func add(magnet: MagnetLink, downloadDirectory: String? = nil, paused: Bool = false, added: Date = Date()) async throws
        -> InfoHash
    {
        let hash = magnet.infoHash
        return try await serialized(hash) {
            guard entries[hash] == nil else { throw SessionError.duplicate(magnet.displayName ?? hash.hex) }
            registerMetadataPhase(makeFetcher(magnet), directory: downloadDirectory.map(AbsolutePath.resolve) ?? self.downloadDirectory,
                                  paused: paused, added: added)
            await saveTorrent(hash)
            return hash
        }
    }

    /// A v2 .torrent file whose piece layers are missing (or do not match their files' roots),
    /// as libtorrent takes it: its peers are asked for them in a metadata phase, as a v2
    /// magnet's are, and it becomes its torrent, layers in, once they prove out. A restart finds
    /// its file in the store and asks again.
    /// Files the user skipped stay skipped when it becomes its torrent (as a magnet's `so`).
    func fetchLayers(of metainfo: Metainfo, directory: String, paused: Bool, added: Date, planNow: Bool,
                     filePriorities: [FilePriority]? = nil) -> InfoHash {
        var magnet = MagnetLink(infoHash: metainfo.infoHash, displayName: metainfo.info.name, v2Hash: metainfo.infoHashV2)
        if let filePriorities, filePriorities.contains(.skip) {
            magnet.selectOnly = filePriorities.indices.filter { filePriorities[$0] != .skip }
        }
        registerMetadataPhase(makeFetcher(magnet, torrentFile: metainfo), directory: directory, paused: paused, added: added, planNow: planNow)
        config.logger.info("the torrent lacks piece layers: asking its peers for them",
                           metadata: ["torrent": "\(metainfo.info.name)", "file": "\(metainfo.missingPieceLayer ?? "")"])
        return metainfo.infoHash
    }

    private func registerMetadataPhase(_ fetcher: MetadataFetcher, directory: String, paused: Bool, added: Date, planNow: Bool = true) {
        let hash = fetcher.magnet.infoHash
        entries[hash] = Entry(phase: .metadata(fetcher), stop: nil, paused: true, downloadDirectory: directory, added: added)
        restingSlots[hash] = entries[hash]?.restingSlot
        encryptedTorrents.insert(hash)
        order.append(hash)
        if !paused { startOrQueue(hash, planNow: planNow) }
    }

    func makeFetcher(_ magnet: MagnetLink, torrentFile: Metainfo? = nil) -> MetadataFetcher {
        var lookup: (@Sendable (InfoHash) async -> [PeerAddress])?
        if let node = dht {
            lookup = { hash in await node.getPeers(hash) }
        }
        return MetadataFetcher(magnet: magnet, config: config, port: port, peerBudget: peerBudget, trackerGate: trackerGate, transport: transport,
                               dhtLookup: lookup, torrentFile: torrentFile)
    }

    /// The magnet's fetcher while it runs (not paused, metadata not yet here).
    func fetching(_ hash: InfoHash) -> MetadataFetcher? {
        guard let entry = entries[hash], !entry.paused, case .metadata(let fetcher) = entry.phase else { return nil }
        return fetcher
    }

    /// The info dictionary arrived and was verified: the magnet becomes a torrent.
    func metadataArrived(_ metainfo: Metainfo, from fetcher: MetadataFetcher) async {
        let key = fetcher.magnet.infoHash
        guard metainfo.infoHash == key else { return await rekeyed(metainfo, from: fetcher, key: key) }
        // In turn with the user's commands for it: a pause or remove meanwhile wins.
        _ = try? await serialized(metainfo.infoHash) { await becomeTorrent(metainfo, from: fetcher) }
    }

    /// A hybrid fetched by its v2 hash (a `urn:btmh` magnet) is known by its v1 hash once its
    /// dictionary is here, as every v1 peer knows it: the magnet's entry gives way to the
    /// torrent's, in the same directory, with the peers found so far.
    private func rekeyed(_ metainfo: Metainfo, from fetcher: MetadataFetcher, key: InfoHash) async {
        guard let entry = entries[key], case .metadata(let current) = entry.phase, current === fetcher, !entry.paused else { return }
        let directory = entry.downloadDirectory
        do {
            try await remove(key)
            let hash = try await add(metainfo, downloadDirectory: directory)
            await addPeers(hash, Array(await fetcher.known.keys))
            config.logger.info("a hybrid fetched by its v2 hash is known by its v1 hash from now on",
                               metadata: ["torrent": "\(metainfo.info.name)", "v1": "\(hash.hex)", "v2": "\(key.hex)"])
        } catch {
            report("\(metainfo.info.name): \(error)")
        }
    }

    private func becomeTorrent(_ metainfo: Metainfo, from fetcher: MetadataFetcher) async {
        let hash = metainfo.infoHash
        // Paused or removed meanwhile: that fetcher's result is not wanted.
        guard let entry = entries[hash], case .metadata(let current) = entry.phase, current === fetcher, !entry.paused else { return }
        entry.stop?.finish()
        let runtime = makeRuntime(metainfo, directory: entry.downloadDirectory)
        if let selected = fetcher.magnet.selectOnly {
            await runtime.setFilePriorities(metainfo.info.files.indices.map { selected.contains($0) ? FilePriority.normal : .skip })
        }
        await applyEntrySettings(runtime, entry)
        await runtime.carryOver(await fetcher.trackers)
        await runtime.loadRestingProgress()
        do {
            try await store?.saveTorrent(metainfo, bytes: metainfo.fileBytes, replacing: fetcher.torrentFile != nil)
        } catch {
            report("\(metainfo.info.name): \(error)")
        }
        entries[hash]?.phase = .torrent(runtime)
        noteAlias(of: runtime, for: hash)
        entries[hash]?.stop = nil
        entries[hash]?.paused = true
        start(hash)
        let known = await fetcher.known
        for source in [PeerSource.manual, .tracker, .pex, .dht] {
            let addresses = known.filter { $0.value == source }.map(\.key)
            if !addresses.isEmpty { await runtime.addPeers(addresses, source: source) }
        }
        await saveTorrent(hash)
    }

    func magnetSnapshot(_ hash: InfoHash, _ entry: Entry) async -> TorrentSnapshot {
        guard case .metadata(let fetcher) = entry.phase else { preconditionFailure("a torrent's entry, not a magnet's") }
        let peers = await fetcher.connectedAddresses.map { address in
            PeerSnapshot(address: address.description, client: "", flags: "", downloadRate: 0, uploadRate: 0, progress: 0,
                         pieces: Bitfield(count: 0))
        }
        // A .torrent file waiting for its piece layers knows its size already.
        let size = fetcher.torrentFile?.info.totalLength ?? 0
        var snapshot = TorrentSnapshot(
            id: hash, name: fetcher.magnet.displayName ?? hash.hex, totalSize: size, wantedSize: size, haveSize: 0,
            activity: entry.paused ? .paused : .metadata, error: nil, downloadRate: 0, uploadRate: 0, downloaded: 0, uploaded: 0,
            eta: nil, pieces: Bitfield(count: 0), piecesInProgress: [], availability: [], peers: peers,
            trackers: await fetcher.trackers.states, files: [], downloadDirectory: entry.downloadDirectory,
            isPrivate: fetcher.torrentFile?.info.isPrivate ?? false, hashFailures: 0, bannedPeers: 0, piecesHashedOnCheck: 0)
        snapshot.closeReasons = await fetcher.closeCounts
        entry.describe(&snapshot.details)
        snapshot.details.magnetURI = fetcher.magnet.uri
        return snapshot
    }
}
