import Foundation
import ShoalCore
import ShoalTestSupport
import ShoalEngine
import Testing

@Suite("Peers that send bad data", .serialized)
struct HostilePeerTests {
    /// A peer answering every request with garbage is caught by the hash check and banned; the
    /// download still completes from the honest seeder, byte for byte.
    @Test func corruptPeerIsBannedAndTheDownloadCompletes() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "movie.mkv", files: nil, singleSize: 64 * 16_384 + 99,
                                              pieceLength: 32 << 10, in: seedDir, seed: 77)
        let liar = try await ScriptedPeer(metainfo: torrent) { block in [UInt8](repeating: 0xEE, count: block.length) }
        let liarTask = Task { await liar.run() }

        let log = CapturedLog()
        let leecher = try await harness.startSession("leech") {
            $0.maxPeersPerTorrent = 10
            $0.logger = log.logger()
        }
        let hash = try await leecher.add(torrent)
        // The liar first, alone, so it is sure to be asked for data.
        await leecher.addPeers(hash, [liar.address])
        let caught = await harness.waitUntil(timeout: .seconds(120)) {
            (await leecher.snapshot().torrents.first?.bannedPeers ?? 0) >= 1
        }
        #expect(caught)
        let seeder = try await harness.startSession("seed")
        try await seeder.add(torrent)
        let done = await harness.waitUntil(timeout: .seconds(120)) {
            await leecher.snapshot().torrents.first?.isComplete == true
        }
        #expect(done)
        let snapshot = try #require(await leecher.snapshot().torrents.first)
        #expect(snapshot.hashFailures >= 1)
        #expect(!snapshot.peers.contains { $0.address == liar.address.description }, "the liar is gone")
        #expect(liar.connections.load(ordering: .relaxed) == liar.closed.load(ordering: .relaxed))
        // Why it went is counted and logged, with the torrent and the peer.
        #expect(snapshot.closeReasons[.badData] >= 1)
        let ban = log.all.first { $0.message.hasPrefix("banned") }
        #expect(ban?.level == .notice)
        #expect(ban?.metadata["reason"] == "banned for bad data: sent data that failed the hash check")
        #expect(ban?.metadata["torrent"] == "movie.mkv" && ban?.metadata["infohash"] == String(hash.hex.prefix(12)))
        #expect(ban?.message.contains(liar.address.description) == true)
        #expect(log.all.contains { $0.message == "closed" && $0.metadata["peer"] == liar.address.description
                && $0.metadata["reason"]?.hasPrefix("banned for bad data") == true })
        #expect(FileManager.default.contentsEqual(atPath: seedDir.appendingPathComponent("movie.mkv").path,
                                                  andPath: harness.root.appendingPathComponent("leech/movie.mkv").path))
        await harness.stopAll()
        await liar.stop()
        await liarTask.value
    }

    /// The liar hides among honest peers: a piece made of blocks from both fails, and the blocks
    /// that differ from the verified copy name the liar, who alone is banned.
    @Test func liarInAMixedPieceIsFoundBlockByBlock() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        // Big pieces (8 blocks) so that pieces are shared between peers.
        let torrent = try harness.makeTorrent(name: "big.bin", files: nil, singleSize: 24 * 131_072,
                                              pieceLength: 128 << 10, in: seedDir, seed: 5)
        let liar = try await ScriptedPeer(metainfo: torrent) { block in [UInt8](repeating: 0x00, count: block.length) }
        let liarTask = Task { await liar.run() }
        let seeder = try await harness.startSession("seed")
        try await seeder.add(torrent)
        // Over TCP: the liar has no uTP, and a uTP dial to it would wait out the SYN's three
        // seconds while the seeder delivered every block, leaving the liar nothing to lie in.
        let leecher = try await harness.startSession("leech") { $0.utpEnabled = false }
        let hash = try await leecher.add(torrent)
        await leecher.addPeers(hash, [liar.address])
        let done = await harness.waitUntil(timeout: .seconds(120)) {
            await leecher.snapshot().torrents.first?.isComplete == true
        }
        #expect(done)
        let snapshot = try #require(await leecher.snapshot().torrents.first)
        #expect(snapshot.bannedPeers == 1, "only the liar")
        #expect(snapshot.activity == .seeding)
        #expect(FileManager.default.contentsEqual(atPath: seedDir.appendingPathComponent("big.bin").path,
                                                  andPath: harness.root.appendingPathComponent("leech/big.bin").path))
        await harness.stopAll()
        await liar.stop()
        await liarTask.value
    }

    /// The first release's stall: with the download capped, blocks from the liar and the seed
    /// were mixed into every piece, every piece failed with two senders, nothing verified and
    /// the liar was never caught. Parole makes the liar's next piece its own: caught, and the
    /// download completes, at a rate that once stalled it (512 KiB/s).
    @Test func liarIsCaughtUnderADownloadCap() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        // Pieces of 32 blocks: with the cap sharing the rate between both senders, every piece
        // gets blocks from both.
        let torrent = try harness.makeTorrent(name: "capped.bin", files: nil, singleSize: 4 << 20, pieceLength: 512 << 10,
                                              in: seedDir, seed: 9)
        let liar = try await ScriptedPeer(metainfo: torrent) { block in SwarmHarness.bytes(block.length, seed: UInt64(block.offset)) }
        let liarTask = Task { await liar.run() }
        let seeder = try await harness.startSession("seed")
        try await seeder.add(torrent)
        let leecher = try await harness.startSession("leech") { $0.downloadLimit = 512 << 10 }
        let hash = try await leecher.add(torrent)
        await leecher.addPeers(hash, [liar.address])
        let done = await harness.waitUntil(timeout: .seconds(90)) { await leecher.snapshot().torrents.first?.isComplete == true }
        let snapshot = try #require(await leecher.snapshot().torrents.first)
        #expect(done, "\(snapshot.pieces.setCount) pieces verified, \(liar.blocksSent.load(ordering: .relaxed)) bad blocks served")
        #expect(snapshot.bannedPeers == 1, "the liar, and only it")
        #expect(snapshot.closeReasons[.badData] >= 1, "its connection closed for its bad data")
        #expect(!snapshot.peers.contains { $0.address == liar.address.description })
        #expect(FileManager.default.contentsEqual(atPath: seedDir.appendingPathComponent("capped.bin").path,
                                                  andPath: harness.root.appendingPathComponent("leech/capped.bin").path))
        await harness.stopAll()
        await liar.stop()
        await liarTask.value
    }
}
