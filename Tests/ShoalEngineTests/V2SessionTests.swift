import Foundation
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Testing

/// v2-only torrents (BEP 52) in Shoal's own swarms and sessions: pieces checked by their hash
/// trees on the wire and on disk, and kept across a restart with their piece layers.
@Suite("v2 torrents in sessions", .serialized)
struct V2SessionTests {
    static let files: [(path: String, size: Int)] = [("big.bin", 300_001), ("sub/small.txt", 5_000), ("sub.txt", 777), ("empty", 0),
                                                      ("exact.bin", 65_536)]

    @Test func aShoalSwarmMovesAV2TorrentAndAHybrid() async throws {
        for version in [MetainfoBuilder.MetaVersion.v2, .hybrid] {
            let harness = try SwarmHarness()
            try await harness.startTracker()
            let seedDir = harness.root.appendingPathComponent("seed")
            let torrent = try harness.makeTorrent(name: "tree", files: Self.files, pieceLength: 32 << 10, in: seedDir, seed: 80, version: version)
            #expect(torrent.info.v2?.isOnly == (version == .v2))
            let seeder = try await harness.startSession("seed") { $0.downloadDirectory = seedDir.path }
            try await seeder.add(torrent)
            #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding }, "its own data checks out")
            let leecher = try await harness.startSession("leech")
            try await leecher.add(torrent)
            #expect(await harness.waitUntil { await leecher.snapshot().torrents.first?.isComplete == true })
            #expect(await leecher.snapshot().torrents.first?.hashFailures == 0)
            for file in Self.files {
                let a = try Data(contentsOf: seedDir.appendingPathComponent("tree/" + file.path))
                let b = try Data(contentsOf: harness.root.appendingPathComponent("leech/tree/" + file.path))
                #expect(a == b, "\(file.path)")
            }
            await harness.stopAll()
        }
    }

    /// Restarted, a v2 seed comes back with its layers (they live outside `info`); with its
    /// resume data gone, the check by hash trees finds every piece but one whose byte was changed.
    @Test func aV2SeedSurvivesARestartAndItsCheckFindsABadPiece() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "tree", files: Self.files, pieceLength: 32 << 10, in: seedDir, seed: 81, trackers: [],
                                              version: .v2)
        let state = harness.root.appendingPathComponent("state").path
        let first = try await harness.startSession("a") { $0.stateDirectory = state; $0.downloadDirectory = seedDir.path }
        try await first.add(torrent)
        #expect(await harness.waitUntil { await first.snapshot().torrents.first?.activity == .seeding })
        await first.shutdown()

        let second = try await harness.startSession("a") { $0.stateDirectory = state; $0.downloadDirectory = seedDir.path }
        #expect(await second.restore().isEmpty)
        #expect(await harness.waitUntil { await second.snapshot().torrents.first?.activity == .seeding })
        #expect(await second.snapshot().torrents.first?.id == torrent.infoHash)
        await second.shutdown()

        // One byte of big.bin's second piece changed, and no resume data: a full check.
        try FileManager.default.removeItem(atPath: state + "/resume")
        let big = seedDir.appendingPathComponent("tree/big.bin")
        var data = try Data(contentsOf: big)
        data[40_000] ^= 0xFF
        try data.write(to: big)
        let third = try await harness.startSession("a") { $0.stateDirectory = state; $0.downloadDirectory = seedDir.path }
        #expect(await third.restore().isEmpty)
        #expect(await harness.waitUntil { await third.snapshot().torrents.first?.activity == .downloading })
        let snapshot = await third.snapshot().torrents.first
        let missing = (0..<torrent.info.pieceCount).filter { snapshot?.pieces[$0] == false }
        #expect(missing == [1], "only the piece with the changed byte: \(missing)")
        await harness.stopAll()
    }

    /// A v2 .torrent without its piece layers is taken as libtorrent takes it: its peers (found
    /// at its own tracker) are asked for the layers, which are proved against the files' roots,
    /// and it downloads with every piece checked; its trackers are the file's.
    @Test func aV2TorrentWithoutItsLayersGetsThemFromItsPeers() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let full = try harness.makeTorrent(name: "tree", files: Self.files, pieceLength: 32 << 10, in: seedDir, seed: 82, version: .v2)
        let bare = try Metainfo(rawInfo: full.rawInfo, trackerTiers: full.trackerTiers)
        #expect(bare.missingPieceLayer != nil && bare.infoHash == full.infoHash)
        let seeder = try await harness.startSession("seed") { $0.downloadDirectory = seedDir.path }
        try await seeder.add(full)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        let log = CapturedLog()
        let leecher = try await harness.startSession("leech") { $0.logger = log.logger() }
        try await leecher.add(bare)
        #expect(await harness.waitUntil { await leecher.snapshot().torrents.first?.isComplete == true })
        let state = await leecher.snapshot().torrents.first
        #expect(state?.id == full.infoHash && state?.hashFailures == 0)
        #expect(log.all.contains { $0.message == "the torrent lacks piece layers: asking its peers for them" })
        for file in Self.files {
            let a = try Data(contentsOf: seedDir.appendingPathComponent("tree/" + file.path))
            let b = try Data(contentsOf: harness.root.appendingPathComponent("leech/tree/" + file.path))
            #expect(a == b, "\(file.path)")
        }
        await harness.stopAll()
    }

    /// Stopped while its layers are wanted, such a torrent comes back waiting for them (its size
    /// known, not a bare magnet), gets them from a peer named after the restart and completes;
    /// restarted again it comes back complete, its layers kept in the stored file.
    @Test func aV2TorrentWaitingForItsLayersSurvivesARestart() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let full = try harness.makeTorrent(name: "tree", files: Self.files, pieceLength: 32 << 10, in: seedDir, seed: 83, trackers: [],
                                           version: .v2)
        let bare = try Metainfo(rawInfo: full.rawInfo, trackerTiers: [])
        let state = harness.root.appendingPathComponent("state").path
        let first = try await harness.startSession("leech") { $0.stateDirectory = state }
        // sub.txt skipped before the layers came: still skipped after a restart and once they do.
        let skipped = try #require(bare.info.files.firstIndex { $0.path == ["sub.txt"] })
        try await first.add(bare, filePriorities: bare.info.files.indices.map { $0 == skipped ? .skip : .normal })
        #expect(await first.snapshot().torrents.first?.activity == .metadata)
        await first.shutdown()

        let second = try await harness.startSession("leech") { $0.stateDirectory = state }
        #expect(await second.restore().isEmpty)
        let waiting = await second.snapshot().torrents.first
        #expect(waiting?.activity == .metadata && waiting?.totalSize == full.info.totalLength && waiting?.id == full.infoHash)
        let seeder = try await harness.startSession("seed") { $0.downloadDirectory = seedDir.path }
        try await seeder.add(full)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        await second.addPeers(full.infoHash, [PeerAddress(host: "127.0.0.1", port: seeder.listenPort)])
        #expect(await harness.waitUntil { await second.snapshot().torrents.first?.isComplete == true })
        let files = await second.snapshot().torrents.first?.files ?? []
        let subTxt = files.first { $0.path.split(separator: "/").last == "sub.txt" }
        #expect(subTxt?.priority == .skip && files.filter { $0.priority == .skip }.count == 1, "\(files.map { ($0.path, $0.priority) })")
        await second.shutdown()

        let third = try await harness.startSession("leech") { $0.stateDirectory = state }
        #expect(await third.restore().isEmpty)
        let seeding = await harness.waitUntil(timeout: .seconds(20)) { await third.snapshot().torrents.first?.activity == .seeding }
        let restored = await third.snapshot().torrents.first
        #expect(seeding, "\(String(describing: restored?.activity)) \(String(describing: restored?.error)) \(String(describing: restored?.haveSize))")
        #expect(restored?.hashFailures == 0)
        await harness.stopAll()
    }

    /// A liar among honest peers in a v2 torrent: blocks from both in every piece (the rate is
    /// capped), a piece fails, and the blocks' hashes (BEP 52 hash requests, answered by the
    /// honest seeder from its data and proved against the piece's hash) name the liar from its
    /// blocks alone, without waiting for a good copy. It alone is banned; the download completes.
    @Test func aLiarIsNamedByItsBlocksHashes() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "capped.bin", files: nil, singleSize: 4 << 20, pieceLength: 512 << 10,
                                              in: seedDir, seed: 82, version: .v2)
        let liar = try await ScriptedPeer(metainfo: torrent) { block in SwarmHarness.bytes(block.length, seed: UInt64(block.offset)) }
        let liarTask = Task { await liar.run() }
        let seeder = try await harness.startSession("seed") { $0.downloadDirectory = seedDir.path }
        try await seeder.add(torrent)
        let log = CapturedLog()
        let leecher = try await harness.startSession("leech") {
            $0.downloadLimit = 512 << 10
            $0.logger = log.logger()
        }
        let hash = try await leecher.add(torrent)
        // The liar joins once the seeder is under way: it is handed blocks of pieces the seeder
        // has begun (the most advanced first), so the first piece to fail has both senders.
        #expect(await harness.waitUntil(timeout: .seconds(30)) { (await leecher.snapshot().torrents.first?.haveSize ?? 0) > 0 })
        await leecher.addPeers(hash, [liar.address])
        let done = await harness.waitUntil(timeout: .seconds(90)) { await leecher.snapshot().torrents.first?.isComplete == true }
        let snapshot = try #require(await leecher.snapshot().torrents.first)
        #expect(done, "\(snapshot.pieces.setCount) pieces verified")
        #expect(snapshot.bannedPeers == 1, "the liar, and only it")
        let entries = log.all
        let answered = entries.firstIndex { $0.message == "block hashes answered" && $0.metadata["bad blocks"] != "[]" }
        let banned = entries.firstIndex { $0.message.hasPrefix("banned") && $0.message.contains(liar.address.description) }
        #expect(answered != nil && banned != nil && answered! < banned!, "named by its blocks' hashes first")
        #expect(FileManager.default.contentsEqual(atPath: seedDir.appendingPathComponent("capped.bin").path,
                                                  andPath: harness.root.appendingPathComponent("leech/capped.bin").path))
        await harness.stopAll()
        await liar.stop()
        await liarTask.value
    }

    /// A hybrid is announced to its tracker under both hashes (BEP 52, as libtorrent does): a
    /// peer that knows only the v2 hash finds the seed there, and a stop leaves under both.
    @Test func aHybridIsAnnouncedUnderBothHashes() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "tree", files: Self.files, pieceLength: 32 << 10, in: seedDir, seed: 83, version: .hybrid)
        let alias = try #require(torrent.hybridV2Alias)
        let url = harness.tracker.announceURL
        let seeder = try await harness.startSession("seed") { $0.downloadDirectory = seedDir.path }
        try await seeder.add(torrent)
        @Sendable func seeds(_ hash: InfoHash) async -> Int {
            await TrackerScrape.counts(for: hash, at: url, timeout: .seconds(5), retry: .init(firstTimeout: .seconds(1), attempts: 1))?.seeders ?? 0
        }
        @Sendable func both(_ count: Int) async -> Bool {
            let first = await seeds(torrent.infoHash), second = await seeds(alias)
            return first == count && second == count
        }
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await both(1) })
        // A leecher that knows only the v2 hash: a v2-only magnet of the hybrid, found through the tracker.
        let leecher = try await harness.startSession("leech")
        try await leecher.add(magnet: MagnetLink(infoHash: alias, trackers: [url], v2Hash: torrent.infoHashV2))
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true })
        try await seeder.pause(torrent.infoHash)
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await both(0) }, "stopped under both")
        await harness.stopAll()
    }

    /// A seed answering our v1 handshake of a hybrid with its v2 hash, as libtorrent 2 may
    /// (BEP 52's upgrade): the connection is taken as the same torrent's and the data comes.
    @Test func aHandshakeUpgradedToV2IsTaken() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "one.bin", files: nil, singleSize: 300_001, pieceLength: 32 << 10, in: seedDir, seed: 84,
                                              trackers: [], version: .hybrid)
        let alias = try #require(torrent.hybridV2Alias)
        let content = try Array(Data(contentsOf: seedDir.appendingPathComponent("one.bin")))
        let pieceLength = torrent.info.pieceLength
        let seed = try await ScriptedPeer(metainfo: torrent, handshakeHash: alias) { block in
            let start = block.piece.value * pieceLength + block.offset
            return Array(content[start..<start + block.length])
        }
        let serving = Task { await seed.run() }
        defer { serving.cancel() }
        let leecher = try await harness.startSession("leech")
        let hash = try await leecher.add(torrent)
        await leecher.addPeers(hash, [seed.address])
        let done = await harness.waitUntil(timeout: .seconds(30)) { await leecher.snapshot().torrents.first?.isComplete == true }
        let state = await leecher.snapshot().torrents.first
        #expect(done && state?.hashFailures == 0, "\(String(describing: state?.closeReasons))")
        await seed.stop()
        await harness.stopAll()
    }
}
