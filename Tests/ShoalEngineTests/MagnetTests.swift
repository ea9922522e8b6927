import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Synchronization
import Testing

@Suite("Magnet links: metadata from peers (BEP 9)", .serialized)
struct MagnetTests {
    /// The leecher has only the magnet (info-hash, name, tracker, `so=`): it finds the seeder
    /// through the tracker, fetches and verifies the metadata, then downloads the selected file.
    @Test func magnetWithTrackerAndSelection() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let files: [(path: String, size: Int)] = [("one.bin", 200_000), ("two.bin", 300_000), ("three.bin", 1)]
        let torrent = try harness.makeTorrent(name: "album", files: files, pieceLength: 16 << 10, in: seedDir, seed: 21)
        let seeder = try await harness.startSession("seed") { $0.uploadLimit = 300 << 10 }
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.trackers.first?.lastAnnounce != nil })

        let leecher = try await harness.startSession("leech")
        let magnet = MagnetLink(infoHash: torrent.infoHash, displayName: "album", trackers: [harness.tracker.announceURL], selectOnly: [2])
        try await leecher.add(magnet: magnet)
        let first = await leecher.snapshot().torrents.first
        #expect(first?.activity == .metadata && first?.name == "album" && first?.isComplete == false)
        #expect(await harness.waitUntil(timeout: .seconds(60)) {
            guard let torrent = await leecher.snapshot().torrents.first else { return false }
            return torrent.activity != .metadata && torrent.isComplete
        })
        let done = try #require(await leecher.snapshot().torrents.first)
        // Files are in byte order: one.bin, three.bin, two.bin; so=2 selects two.bin.
        #expect(done.files.map(\.path) == ["one.bin", "three.bin", "two.bin"])
        #expect(done.files.map(\.priority) == [.skip, .skip, .normal], "so=2 selects only two.bin")
        #expect(done.activity == .seeding, "\(done.activity) have \(done.haveSize) of \(done.wantedSize)")
        let leechDir = harness.root.appendingPathComponent("leech")
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("album/two.bin"), leechDir.appendingPathComponent("album/two.bin")))
        #expect(done.files[0].haveSize < 200_000, "the skipped file is not downloaded (beyond pieces it shares)")
        #expect(done.trackers.map(\.url) == [harness.tracker.announceURL], "the magnet's trackers carry over")
        await harness.stopAll()
    }

    /// A magnet's trackers are a tier each, announced to by the torrent's tracker code, every
    /// tier at once: a first tracker that never answers (its timeout 5 minutes here) holds up
    /// neither the second nor the metadata, and the magnet's tracker list shows both.
    @Test func silentFirstTrackerHoldsUpNoOther() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let silent = try FakeHTTPServer { _ in nil }
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "tiers.bin", files: nil, singleSize: 200_000, pieceLength: 16 << 10, in: seedDir,
                                              seed: 23)
        let seeder = try await harness.startSession("seed")
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.trackers.first?.lastAnnounce != nil })
        let leecher = try await harness.startSession("leech") { $0.trackerTimeout = .seconds(300) }
        try await leecher.add(magnet: MagnetLink(infoHash: torrent.infoHash, trackers: [silent.announceURL, harness.tracker.announceURL]))
        let complete = await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true }
        let end = await leecher.snapshot().torrents.first
        #expect(complete, "\(String(describing: end?.activity)) \(String(describing: end?.trackers))")
        // What the magnet phase learned stays in the torrent's list.
        let second = end?.trackers.first { $0.url == harness.tracker.announceURL }
        #expect(second?.tier == 1 && second?.lastAnnounce != nil && second?.error == nil, "\(String(describing: second))")
        await harness.stopAll()
        silent.stop()
    }

    /// The magnet names no peer and no tracker: the seeder dials the leecher (as a peer that
    /// found our port at a tracker or in the DHT would), and the magnet takes that connection for
    /// its metadata (it was refused: "no running torrent"), then the data.
    @Test func aPeerThatDialsAMagnetServesItsMetadata() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "dialled.bin", files: nil, singleSize: 300_000, pieceLength: 16 << 10, in: seedDir,
                                              seed: 24, trackers: [])
        let seeder = try await harness.startSession("seed")
        let hash = try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        let leecher = try await harness.startSession("leech")
        try await leecher.add(magnet: MagnetLink(infoHash: torrent.infoHash, displayName: "dialled.bin"))
        await seeder.addPeers(hash, [PeerAddress(host: "127.0.0.1", port: leecher.listenPort)])
        let complete = await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true }
        let end = await leecher.snapshot().torrents.first
        #expect(complete, "\(String(describing: end?.activity)) \(String(describing: end?.closeReasons))")
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("dialled.bin"),
                                          harness.root.appendingPathComponent("leech/dialled.bin")))
        await harness.stopAll()
    }

    /// A magnet paused (or removed) while fetching tells the trackers that answered it that it
    /// left, as a torrent does; one that never answered is not asked.
    @Test func aPausedMagnetSaysStoppedToTheTrackersThatKnowIt() async throws {
        let stopped = Mutex<[String]>([])
        let answering = try FakeHTTPServer { request in
            if request.contains("event=stopped") { stopped.withLock { $0.append("answering") } }
            return Array("d8:intervali1800e5:peers0:e".utf8)
        }
        let silent = try FakeHTTPServer { request in
            if request.contains("event=stopped") { stopped.withLock { $0.append("silent") } }
            return nil
        }
        let harness = try SwarmHarness()
        let leecher = try await harness.startSession("leech") { $0.trackerTimeout = .seconds(300) }
        let hash = InfoHash(hashingInfo: Array("d4:name6:nobodye".utf8))
        try await leecher.add(magnet: MagnetLink(infoHash: hash, trackers: [silent.announceURL, answering.announceURL]))
        #expect(await harness.waitUntil(timeout: .seconds(30)) {
            await leecher.snapshot().torrents.first?.trackers.contains { $0.url == answering.announceURL && $0.status == "working" } == true
        })
        try await leecher.pause(hash)
        #expect(stopped.withLock { $0 } == ["answering"])
        await harness.stopAll()
        answering.stop()
        silent.stop()
    }

    /// No tracker: the magnet names the seeder (`x.pe`). A metadata dictionary over 16 KiB comes
    /// in several pieces.
    @Test func magnetWithPeerOnlyAndMultiPieceMetadata() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        // 1,700 pieces: 34,000 bytes of hashes, three metadata pieces.
        let torrent = try harness.makeTorrent(name: "big.bin", files: nil, singleSize: 1_700 * 16_384 - 99, pieceLength: 16 << 10,
                                              in: seedDir, seed: 22, trackers: [])
        #expect(torrent.rawInfo.count > 2 * MetadataMessage.pieceSize)
        let seeder = try await harness.startSession("seed")
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        let leecher = try await harness.startSession("leech")
        try await leecher.add(magnet: MagnetLink(infoHash: torrent.infoHash, peers: ["127.0.0.1:\(seeder.listenPort)"]))
        #expect(await harness.waitUntil(timeout: .seconds(90)) { await leecher.snapshot().torrents.first?.isComplete == true })
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("big.bin"),
                                          harness.root.appendingPathComponent("leech/big.bin")))
        await harness.stopAll()
    }

    /// A magnet still fetching is saved with the session and comes back after a restart.
    /// A magnet's connections count against the session-wide limit like a torrent's: with the
    /// only slot held by a running download, the magnet waits; when the download pauses and
    /// the slot frees, it fetches its metadata. (Magnet-phase connections ignored the limit.)
    @Test func magnetWaitsForASlotUnderTheSessionLimit() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let slow = try harness.makeTorrent(name: "slow.bin", files: nil, singleSize: 8 << 20, pieceLength: 64 << 10, in: seedDir,
                                           seed: 31, trackers: [])
        let wanted = try harness.makeTorrent(name: "wanted.bin", files: nil, singleSize: 100_000, pieceLength: 16 << 10, in: seedDir,
                                             seed: 32, trackers: [])
        // Slow uploads: the first download holds its connection for the whole test.
        let seeder = try await harness.startSession("seed") { $0.uploadLimit = 64 << 10 }
        try await seeder.add(slow)
        try await seeder.add(wanted)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.allSatisfy { $0.activity == .seeding } })
        let log = CapturedLog()
        let leecher = try await harness.startSession("leech") {
            $0.maxPeersTotal = 1
            $0.logger = log.logger()
        }
        let seedAddress = PeerAddress(host: "127.0.0.1", port: seeder.listenPort)
        let slowHash = try await leecher.add(slow)
        await leecher.addPeers(slowHash, [seedAddress])
        #expect(await harness.waitUntil { await leecher.snapshot().torrents.first?.peers.count == 1 }, "the download holds the slot")
        try await leecher.add(magnet: MagnetLink(infoHash: wanted.infoHash, peers: ["\(seedAddress)"]))
        #expect(await harness.waitUntil(timeout: .seconds(10)) { log.all.contains { $0.message == "metadata: waiting for a connection slot" } })
        #expect(leecher.peerBudget.inUse <= 1, "never more than the limit")
        #expect(await leecher.snapshot().torrents.last?.activity == .metadata)
        try await leecher.pause(slowHash)
        #expect(await harness.waitUntil(timeout: .seconds(30)) {
            guard let magnet = await leecher.snapshot().torrents.first(where: { $0.id == wanted.infoHash }) else { return false }
            return magnet.activity != .metadata && magnet.isComplete
        }, "with the slot free, the metadata and then the data arrive")
        await harness.stopAll()
    }

    @Test func pendingMagnetSurvivesARestart() async throws {
        let harness = try SwarmHarness()
        let state = harness.root.appendingPathComponent("state").path
        let hash = InfoHash(bytes: [UInt8](repeating: 0x5A, count: 20))!
        let magnet = MagnetLink(infoHash: hash, displayName: "nobody has it", peers: ["127.0.0.1:9"])
        let first = try await harness.startSession("one") { $0.stateDirectory = state }
        try await first.add(magnet: magnet)
        try await first.pause(hash)
        await first.shutdown()
        let second = try await harness.startSession("two") { $0.stateDirectory = state }
        #expect(await second.restore().isEmpty)
        let restored = try #require(await second.snapshot().torrents.first)
        #expect(restored.id == hash && restored.name == "nobody has it" && restored.activity == .paused)
        try await second.resume(hash)
        #expect(await second.snapshot().torrents.first?.activity == .metadata)
        // Nobody listens at its only peer: "peers 0" comes with the reason, counted like a torrent's.
        #expect(await harness.waitUntil(timeout: .seconds(10)) {
            (await second.snapshot().torrents.first?.closeReasons[.connectFailed] ?? 0) >= 1
        })
        try await second.remove(hash)
        #expect(await second.snapshot().torrents.isEmpty)
        await harness.stopAll()
    }
}

/// A peer that claims the metadata and sends garbage in its place (BEP 9), on a thread of its own.
final class MetadataLiar: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let infoHash: InfoHash
    private let size: Int

    init(infoHash: InfoHash, size: Int) throws {
        self.infoHash = infoHash
        self.size = size
        (listener, port) = try LoopbackSocket.listener()
        Thread { [self] in serve() }.start()
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func serve() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            Thread { [self] in talk(client) }.start()
        }
    }

    private func talk(_ client: Int32) {
        defer { close(client) }
        func write(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        var decoder = PeerWireDecoder(pieceCount: 1)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var shookHands = false
        while true {
            let count = recv(client, &buffer, buffer.count, 0)
            if count <= 0 { return }
            decoder.append(buffer[0..<count])
            if !shookHands {
                guard decoder.takeRaw(68) != nil else { continue }
                shookHands = true
                var out = Handshake(infoHash: infoHash, peerID: PeerID(bytes: Array("-XX0001-metadataliar".utf8))!).encoded
                PeerMessage.extended(id: 0, payload: ExtensionHandshake(messageIDs: ["ut_metadata": 3], metadataSize: size).encoded)
                    .encode(into: &out)
                write(out)
            }
            while let message = try? decoder.next() {
                guard case .extended(3, let payload) = message, case .request(let piece)? = try? MetadataMessage(parsing: payload) else {
                    continue
                }
                let length = min(MetadataMessage.pieceSize, size - piece * MetadataMessage.pieceSize)
                let lie = MetadataMessage.data(piece: piece, totalSize: size, bytes: [UInt8](repeating: 0x4C, count: length))
                write(PeerMessage.extended(id: ExtensionHandshake.utMetadata, payload: lie.encoded).encoded)
            }
        }
    }
}

@Suite("Magnet links against a metadata liar", .serialized)
struct MetadataLiarTests {
    /// The liar answers first and fast; its pieces fail the info-hash check, everything is asked
    /// again, and the metadata comes from the honest seeder after all.
    @Test func liarsMetadataIsRejectedAndTheDownloadCompletes() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "truth.bin", files: nil, singleSize: 1_700 * 16_384, pieceLength: 16 << 10, in: seedDir,
                                              seed: 111, trackers: [])
        let liar = try MetadataLiar(infoHash: torrent.infoHash, size: torrent.rawInfo.count)
        let seeder = try await harness.startSession("seed")
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        let leecher = try await harness.startSession("leech")
        try await leecher.add(magnet: MagnetLink(infoHash: torrent.infoHash,
                                                 peers: ["127.0.0.1:\(liar.port)", "127.0.0.1:\(seeder.listenPort)"]))
        #expect(await harness.waitUntil(timeout: .seconds(90)) { await leecher.snapshot().torrents.first?.isComplete == true })
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("truth.bin"), harness.root.appendingPathComponent("leech/truth.bin")))
        await harness.stopAll()
        liar.stop()
    }
}
