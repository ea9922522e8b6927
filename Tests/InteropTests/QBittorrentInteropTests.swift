import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// BitTorrent v2 (BEP 52) against qBittorrent 4.5 (qbittorrent-nox on libtorrent 2.0), driven
/// through its WebUI API: v2-only and hybrid torrents libtorrent made, single- and multi-file,
/// from Shoal into qBittorrent and back, bytes checked; and a v2 magnet qBittorrent fetches from
/// a Shoal seed. Each side is also told of the other directly, so no test waits on an announce.
@Suite("v2 and hybrid torrents with qBittorrent", .serialized)
struct QBittorrentInteropTests {
    /// libtorrent's python bindings make the torrents these tests move.
    static let withLibtorrent = QBittorrentDaemon.available && ExternalProcess.available("/usr/bin/python3")

    /// Its torrent's row, once it has one.
    static func row(_ daemon: QBittorrentDaemon) async -> [String: Any]? { await daemon.torrents().first }

    static func describe(_ row: [String: Any]?) -> String {
        guard let row else { return "no torrent" }
        return "state \(row["state"] ?? "?") progress \(row["progress"] ?? "?")"
    }

    @Test("Shoal seeds a torrent libtorrent made, qBittorrent downloads it", .enabled(if: withLibtorrent),
          arguments: V2InteropTests.cases)
    func qBittorrentDownloadsFromShoal(_ layout: RealClientTests.Layout, _ kind: V2InteropTests.Kind) async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let (content, files) = try V2InteropTests.content(layout, harness, in: seedDir)
        let (file, _) = try await V2InteropTests.libtorrentTorrent(of: content, kind: kind, tracker: harness.tracker.announceURL,
                                                                   in: harness.root)
        let metainfo = try Metainfo(bytes: Array(Data(contentsOf: file)))
        let seeder = try await harness.startSession("seed") { $0.downloadDirectory = seedDir.path }
        try await seeder.add(metainfo)
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await seeder.snapshot().torrents.first?.activity == .seeding })
        let leechDir = harness.root.appendingPathComponent("qbt-leech")
        let qbt = try QBittorrentDaemon.start(in: harness.root, name: "qbt-leech", downloadDir: leechDir)
        defer { qbt.process.stop() }
        #expect(await qbt.add(file, savePath: leechDir, harness: harness), "\(qbt.process.output)")
        let row = await Self.row(qbt)
        // qBittorrent's hashes are Shoal's: the v2 one always, the v1 one for a hybrid.
        #expect(row?["infohash_v2"] as? String == Hex.encode(metainfo.infoHashV2 ?? []))
        #expect(row?["infohash_v1"] as? String ?? "" == (kind == .hybrid ? metainfo.infoHash.hex : ""))
        await qbt.addPeer(row?["hash"] as? String ?? "", port: Int(seeder.listenPort))
        let done = await harness.waitUntil(timeout: .seconds(90)) { await Self.row(qbt).map(QBittorrentDaemon.isSeeding) == true }
        let closes = await seeder.snapshot().torrents.first?.closeReasons
        let last = Self.describe(await Self.row(qbt))
        #expect(done, "\(last) \(String(describing: closes))")
        RealClientTests.expectSame(files, seedDir, leechDir)
        await harness.stopAll()
        await qbt.process.stop()
    }

    @Test("qBittorrent seeds a torrent libtorrent made, Shoal downloads it", .enabled(if: withLibtorrent),
          arguments: V2InteropTests.cases)
    func shoalDownloadsFromQBittorrent(_ layout: RealClientTests.Layout, _ kind: V2InteropTests.Kind) async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("qbt-seed")
        let (content, files) = try V2InteropTests.content(layout, harness, in: seedDir)
        let (file, _) = try await V2InteropTests.libtorrentTorrent(of: content, kind: kind, tracker: harness.tracker.announceURL,
                                                                   in: harness.root)
        let metainfo = try Metainfo(bytes: Array(Data(contentsOf: file)))
        let qbt = try QBittorrentDaemon.start(in: harness.root, name: "qbt-seed", downloadDir: seedDir)
        defer { qbt.process.stop() }
        #expect(await qbt.add(file, savePath: seedDir, harness: harness), "\(qbt.process.output)")
        let checked = await harness.waitUntil(timeout: .seconds(30)) { await Self.row(qbt).map(QBittorrentDaemon.isSeeding) == true }
        let afterCheck = Self.describe(await Self.row(qbt))
        #expect(checked, "qBittorrent checks its data: \(afterCheck)")
        let log = CapturedLog()
        let leecher = try await harness.startSession("leech") { $0.logger = log.logger(level: .debug) }
        let hash = try await leecher.add(metainfo)
        await leecher.addPeers(hash, [PeerAddress(host: "127.0.0.1", port: UInt16(qbt.peerPort))])
        let done = await harness.waitUntil(timeout: .seconds(90)) { await leecher.snapshot().torrents.first?.isComplete == true }
        let state = await leecher.snapshot().torrents.first
        let last = Self.describe(await Self.row(qbt))
        // Why connections failed, for a failure's message.
        let failures = log.all.filter { ["dial failed", "refused", "closed"].contains($0.message) }.map { "\($0.message) \($0.metadata["reason"] ?? "")" }
        #expect(done, "\(String(describing: state?.closeReasons)) \(last) \(failures.suffix(8))")
        #expect(state?.hashFailures == 0)
        RealClientTests.expectSame(files, seedDir, harness.root.appendingPathComponent("leech"))
        await harness.stopAll()
        await qbt.process.stop()
    }

    /// qBittorrent given only a v2 magnet (`urn:btmh`) and the Shoal seed's address: the info
    /// dictionary over BEP 9, the piece layers through BEP 52 hash requests, then the data.
    @Test("qBittorrent fetches a v2 magnet from a Shoal seeder", .enabled(if: QBittorrentDaemon.available))
    func qBittorrentFetchesAV2Magnet() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let files: [(path: String, size: Int)] = [("big.bin", 1_000_001), ("sub/small.txt", 5_000), ("exact.bin", 65_536)]
        let metainfo = try harness.makeTorrent(name: "tree", files: files, pieceLength: 32 << 10, in: seedDir, seed: 92, trackers: [],
                                               version: .v2)
        let seeder = try await harness.startSession("seed") { $0.downloadDirectory = seedDir.path }
        try await seeder.add(metainfo)
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await seeder.snapshot().torrents.first?.activity == .seeding })
        let leechDir = harness.root.appendingPathComponent("qbt-leech")
        let qbt = try QBittorrentDaemon.start(in: harness.root, name: "qbt-magnet", downloadDir: leechDir)
        defer { qbt.process.stop() }
        let magnet = "magnet:?xt=urn:btmh:1220\(Hex.encode(metainfo.infoHashV2!))&dn=tree"
        #expect(await qbt.add(magnet: magnet, savePath: leechDir, harness: harness), "\(qbt.process.output)")
        #expect(await harness.waitUntil(timeout: .seconds(10)) { await Self.row(qbt) != nil })
        let hash = await Self.row(qbt)?["hash"] as? String ?? ""
        await qbt.addPeer(hash, port: Int(seeder.listenPort))
        let done = await harness.waitUntil(timeout: .seconds(90)) { await Self.row(qbt).map(QBittorrentDaemon.isSeeding) == true }
        let closes = await seeder.snapshot().torrents.first?.closeReasons
        let last = Self.describe(await Self.row(qbt))
        #expect(done, "\(last) \(String(describing: closes))")
        RealClientTests.expectSame(files.map { "tree/" + $0.path }, seedDir, leechDir)
        await harness.stopAll()
        await qbt.process.stop()
    }
}
