import Foundation
import ShoalCore

/// Magnet links in the session: added, shown and saved like torrents while their metadata is
/// fetched, then replaced by the torrent it describes, in the same place in the list.
struct MagnetEntry {
    let fetcher: MetadataFetcher
    var stop: AsyncStream<Void>.Continuation?
    var paused: Bool
    var downloadDirectory: String
    var added: Date
}

extension Session {
    @discardableResult
    public func add(magnet: MagnetLink, downloadDirectory: String? = nil, paused: Bool = false, added: Date = Date()) async throws
        -> InfoHash
    {
        let hash = magnet.infoHash
        return try await serialized(hash) {
            guard entries[hash] == nil, magnets[hash] == nil else { throw SessionError.duplicate(magnet.displayName ?? hash.hex) }
            magnets[hash] = MagnetEntry(fetcher: makeFetcher(magnet), stop: nil, paused: true,
                                        downloadDirectory: downloadDirectory.map(AbsolutePath.resolve) ?? config.downloadDirectory,
                                        added: added)
            order.append(hash)
            if !paused { startMagnet(hash) }
            await saveSession()
            return hash
        }
    }

    func makeFetcher(_ magnet: MagnetLink) -> MetadataFetcher {
        var lookup: (@Sendable (InfoHash) async -> [PeerAddress])?
        if let node = dht {
            lookup = { hash in await node.getPeers(hash) }
        }
        return MetadataFetcher(magnet: magnet, config: config, listenPort: listenPort, peerBudget: peerBudget, dhtLookup: lookup)
    }

    func startMagnet(_ hash: InfoHash) {
        guard var entry = magnets[hash], entry.paused, entry.stop == nil else { return }
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self)
        entry.stop = continuation
        entry.paused = false
        magnets[hash] = entry
        spawnContinuation.yield(.magnet(entry.fetcher, stop: stream))
    }

    func pauseMagnet(_ hash: InfoHash) async {
        guard var entry = magnets[hash], !entry.paused else { return }
        entry.stop?.finish()
        entry.stop = nil
        entry.paused = true
        // The old fetcher's task is ending; a resume starts a fresh one.
        entry = MagnetEntry(fetcher: makeFetcher(entry.fetcher.magnet), stop: nil, paused: true,
                            downloadDirectory: entry.downloadDirectory, added: entry.added)
        magnets[hash] = entry
        await saveSession()
    }

    func removeMagnet(_ hash: InfoHash) async {
        magnets[hash]?.stop?.finish()
        magnets[hash] = nil
        order.removeAll { $0 == hash }
        await saveSession()
    }

    /// The info dictionary arrived and was verified: the magnet becomes a torrent, keeping its
    /// place, its download directory, its `so=` selection and the peers found so far.
    func metadataArrived(_ metainfo: Metainfo, from fetcher: MetadataFetcher) async {
        // In turn with the user's commands for it: a pause or remove meanwhile wins.
        _ = try? await serialized(metainfo.infoHash) { await becomeTorrent(metainfo, from: fetcher) }
    }

    private func becomeTorrent(_ metainfo: Metainfo, from fetcher: MetadataFetcher) async {
        let hash = metainfo.infoHash
        guard let entry = magnets[hash], entry.fetcher === fetcher else { return }  // removed or paused meanwhile
        entry.stop?.finish()
        magnets[hash] = nil
        let position = order.firstIndex(of: hash)
        order.removeAll { $0 == hash }
        var priorities: [FilePriority]?
        if let selected = fetcher.magnet.selectOnly {
            priorities = metainfo.info.files.indices.map { selected.contains($0) ? .normal : .skip }
        }
        do {
            _ = try await addNow(metainfo, downloadDirectory: entry.downloadDirectory, paused: false, filePriorities: priorities)
        } catch {
            report("\(metainfo.info.name): \(error)")
            return
        }
        if let position, let now = order.firstIndex(of: hash) {
            order.remove(at: now)
            order.insert(hash, at: min(position, order.count))
        }
        let known = await fetcher.known
        for source in [PeerSource.manual, .tracker, .pex, .dht] {
            let addresses = known.filter { $0.value == source }.map(\.key)
            if !addresses.isEmpty { await entries[hash]?.runtime.addPeers(addresses, source: source) }
        }
        await saveSession()
    }

    func magnetSnapshot(_ hash: InfoHash, _ entry: MagnetEntry) async -> TorrentSnapshot {
        let fetcher = entry.fetcher
        let peers = await fetcher.connectedAddresses.map { address in
            PeerSnapshot(address: address.description, client: "", flags: "", downloadRate: 0, uploadRate: 0, progress: 0,
                         pieces: Bitfield(count: 0))
        }
        var snapshot = TorrentSnapshot(
            id: hash, name: fetcher.magnet.displayName ?? hash.hex, totalSize: 0, wantedSize: 0, haveSize: 0,
            activity: entry.paused ? .paused : .metadata, error: nil, downloadRate: 0, uploadRate: 0, downloaded: 0, uploaded: 0,
            eta: nil, pieces: Bitfield(count: 0), piecesInProgress: [], availability: [], peers: peers,
            trackers: await fetcher.trackerStates, files: [], downloadDirectory: entry.downloadDirectory, isPrivate: false,
            hashFailures: 0, bannedPeers: 0, piecesHashedOnCheck: 0)
        snapshot.closeReasons = await fetcher.closeCounts
        return snapshot
    }
}
