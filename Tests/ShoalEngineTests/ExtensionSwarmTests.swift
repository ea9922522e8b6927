import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

@Suite("Extension protocol between Shoal peers", .serialized)
struct ExtensionSwarmTests {
    /// No tracker: both leechers are told only of the seeder. The seeder's peer exchange
    /// introduces them, and each shows the other with the X flag.
    @Test func peerExchangeIntroducesLeechers() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "pex.bin", files: nil, singleSize: 3_000_000, pieceLength: 32 << 10,
                                              in: seedDir, seed: 12, trackers: [])
        let seeder = try await harness.startSession("seed") { $0.pexInterval = .milliseconds(500); $0.uploadLimit = 400 << 10 }
        try await seeder.add(torrent)
        let seedAddress = PeerAddress(host: "127.0.0.1", port: seeder.listenPort)
        var leechers: [Session] = []
        for name in ["a", "b"] {
            let leecher = try await harness.startSession(name) { $0.pexInterval = .milliseconds(500) }
            try await leecher.add(torrent)
            await leecher.addPeers(torrent.infoHash, [seedAddress])
            leechers.append(leecher)
        }
        let (a, b) = (leechers[0], leechers[1])
        let met = await harness.waitUntil(timeout: .seconds(60)) {
            let aPeers = await a.snapshot().torrents.first?.peers ?? []
            let bPeers = await b.snapshot().torrents.first?.peers ?? []
            // Whoever dialled first, the two are connected, and the dialler marks the other X.
            let aSeesB = aPeers.contains { $0.address != "\(seedAddress)" }
            let bSeesA = bPeers.contains { $0.address != "\(seedAddress)" }
            let viaPex = (aPeers + bPeers).contains { $0.flags.contains("X") }
            return aSeesB && bSeesA && viaPex
        }
        let seen = await a.snapshot().torrents.first?.peers.map { "\($0.address) \($0.flags)" } ?? []
        #expect(met, "\(seen)")
        #expect(await harness.waitUntil(timeout: .seconds(90)) {
            let aDone = await a.snapshot().torrents.first?.isComplete == true
            let bDone = await b.snapshot().torrents.first?.isComplete == true
            return aDone && bDone
        })
        await harness.stopAll()
    }

    /// A private torrent never exchanges peers.
    @Test func privateTorrentsDoNotExchangePeers() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        var torrent = try harness.makeTorrent(name: "private.bin", files: nil, singleSize: 600_000, pieceLength: 32 << 10,
                                              in: seedDir, seed: 13, trackers: [])
        // Re-encode the same content as private (a different info-hash, as it should be).
        var info = try BencodeDecoder.decode(torrent.rawInfo).value
        if case .dictionary(var entries) = info {
            entries[Array("private".utf8)] = .integer(1)
            info = .dictionary(entries)
        }
        torrent = try Metainfo(rawInfo: BencodeEncoder.encode(info), trackerTiers: [])
        #expect(torrent.info.isPrivate)
        let seeder = try await harness.startSession("seed") { $0.pexInterval = .milliseconds(300); $0.uploadLimit = 100 << 10 }
        try await seeder.add(torrent)
        let seedAddress = PeerAddress(host: "127.0.0.1", port: seeder.listenPort)
        var leechers: [Session] = []
        for name in ["a", "b"] {
            let leecher = try await harness.startSession(name) { $0.pexInterval = .milliseconds(300) }
            try await leecher.add(torrent)
            await leecher.addPeers(torrent.infoHash, [seedAddress])
            leechers.append(leecher)
        }
        let first = leechers[0]
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await first.snapshot().torrents.first?.peers.count == 1 })
        try await Task.sleep(for: .seconds(3))
        let peers = await first.snapshot().torrents.first?.peers ?? []
        #expect(peers.map(\.address) == ["\(seedAddress)"], "only the seeder: \(peers.map(\.address))")
        await harness.stopAll()
    }

    /// A scripted fast-extension peer against a Shoal seeder, while choked: it is told "have all",
    /// gets the extension handshake (with the metadata size) and an allowed fast set; a request
    /// outside the set is rejected, one inside it is served, and metadata is served by ut_metadata.
    @Test func fastExtensionAndMetadataFromASeeder() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "fast.bin", files: nil, singleSize: 40 * 16_384, pieceLength: 16 << 10,
                                              in: seedDir, seed: 14, trackers: [])
        let seeder = try await harness.startSession("seed")
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        let allowed = AllowedFastSet.pieces(for: "127.0.0.1", infoHash: torrent.infoHash, pieceCount: 40, count: 10)
        let outside = try #require((0..<40).first { !allowed.contains($0) })
        var out = Handshake(infoHash: torrent.infoHash, peerID: .generate()).encoded
        PeerMessage.haveNone.encode(into: &out)
        PeerMessage.extended(id: 0, payload: ExtensionHandshake(messageIDs: ["ut_metadata": 3]).encoded).encode(into: &out)
        PeerMessage.request(piece: outside, offset: 0, length: 16_384).encode(into: &out)
        PeerMessage.request(piece: allowed[0], offset: 0, length: 16_384).encode(into: &out)
        PeerMessage.extended(id: ExtensionHandshake.utMetadata, payload: MetadataMessage.request(piece: 0).encoded).encode(into: &out)
        let reply = try #require(await LoopbackSocket.exchange(out, port: Int(seeder.listenPort), timeout: 8))
        var decoder = PeerWireDecoder(pieceCount: 40)
        decoder.append(reply.bytes)
        let handshakeBytes = decoder.takeRaw(68)
        let handshake = try Handshake(parsing: try #require(handshakeBytes))
        #expect(handshake.supportsFast && handshake.supportsExtensions)
        var messages: [PeerMessage] = []
        while let message = try decoder.next() { messages.append(message) }
        #expect(messages.first == .haveAll, "a complete seeder says have all: \(messages.prefix(3))")
        let extensionHandshake = messages.compactMap { message -> ExtensionHandshake? in
            guard case .extended(0, let payload) = message else { return nil }
            return try? ExtensionHandshake(parsing: payload)
        }.first
        #expect(extensionHandshake?.metadataSize == torrent.rawInfo.count && extensionHandshake?.id(of: "ut_metadata") != nil)
        #expect(Set(messages.compactMap { if case .allowedFast(let piece) = $0 { piece } else { nil } }) == Set(allowed))
        #expect(messages.contains(.reject(piece: outside, offset: 0, length: 16_384)))
        #expect(messages.contains { if case .piece(allowed[0], 0, let data) = $0 { data.count == 16_384 } else { false } })
        let metadata = messages.compactMap { message -> MetadataMessage? in
            guard case .extended(3, let payload) = message else { return nil }
            return try? MetadataMessage(parsing: payload)
        }.first
        #expect(metadata == .data(piece: 0, totalSize: torrent.rawInfo.count, bytes: torrent.rawInfo))
        await harness.stopAll()
    }
}

@Suite("Super-seeding between Shoal peers", .serialized)
struct SuperSeedingSwarmTests {
    /// A super-seeding initial seeder and three leechers: every leecher completes with whole data
    /// (pieces are revealed as they spread, then everything once all have reached someone).
    @Test func everyLeecherCompletesFromASuperSeeder() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let size = 48 * 32_768
        let torrent = try harness.makeTorrent(name: "super.bin", files: nil, singleSize: size, pieceLength: 32 << 10, in: seedDir, seed: 101)
        let seeder = try await harness.startSession("seed") { $0.superSeeding = true; $0.uploadLimit = 256 << 10 }
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        var leechers: [Session] = []
        for name in ["a", "b", "c"] {
            let leecher = try await harness.startSession(name)
            try await leecher.add(torrent)
            leechers.append(leecher)
        }
        let all = leechers
        #expect(await harness.waitUntil(timeout: .seconds(120)) {
            for leecher in all where await leecher.snapshot().torrents.first?.isComplete != true { return false }
            return true
        })
        for name in ["a", "b", "c"] {
            #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("super.bin"), harness.root.appendingPathComponent("\(name)/super.bin")))
        }
        await harness.stopAll()
    }

    /// What a newcomer sees of a super-seeder: "have none", then one piece; a request for any
    /// other piece is refused.
    @Test func aNewPeerIsShownOnePiece() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "one.bin", files: nil, singleSize: 20 * 16_384, pieceLength: 16 << 10, in: seedDir,
                                              seed: 102, trackers: [])
        let seeder = try await harness.startSession("seed") { $0.superSeeding = true }
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        var out = Handshake(infoHash: torrent.infoHash, peerID: .generate()).encoded
        PeerMessage.haveNone.encode(into: &out)
        PeerMessage.interested.encode(into: &out)
        for piece in 0..<20 { PeerMessage.request(piece: piece, offset: 0, length: 16_384).encode(into: &out) }
        let reply = try #require(await LoopbackSocket.exchange(out, port: Int(seeder.listenPort), timeout: 3))
        var decoder = PeerWireDecoder(pieceCount: 20)
        decoder.append(reply.bytes)
        _ = decoder.takeRaw(68)
        var messages: [PeerMessage] = []
        while let message = try decoder.next() { messages.append(message) }
        let shown = messages.compactMap { if case .have(let piece) = $0 { piece } else { nil } }
        #expect(messages.first == .haveNone && shown.count == 1, "\(messages.prefix(4))")
        #expect(!messages.contains { if case .bitfield = $0 { true } else { $0 == .haveAll } })
        let rejected = messages.compactMap { if case .reject(let piece, _, _) = $0 { piece } else { nil } }
        #expect(rejected.count >= 19 && !rejected.contains(shown.first ?? -1), "every piece but the one shown is refused")
        await harness.stopAll()
    }
}
