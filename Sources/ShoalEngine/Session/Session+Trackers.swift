import ShoalCore

extension Session {
    /// Replaces a torrent's trackers with `tiers` (checked and tidied, see `TrackerListEdit`);
    /// kept in the session file, so they outlive a restart. Giving back the torrent's own tiers
    /// forgets the edit.
    public func setTrackers(_ hash: InfoHash, _ tiers: [[String]]) async throws {
        try await serialized(hash) {
            guard let entry = entries[hash] else { throw SessionError.unknownTorrent }
            guard case .torrent(let runtime) = entry.phase else {
                throw SessionError.unsupported("the trackers can be changed once the metadata is here")
            }
            let tidy: [[String]]
            do {
                tidy = try TrackerListEdit.validated(tiers)
            } catch {
                throw SessionError.unsupported("\(error)")
            }
            entries[hash]?.trackers = tidy == runtime.metainfo.trackerTiers ? nil : tidy
            await runtime.setTrackers(tidy)
            await saveTorrent(hash)
        }
    }
}
