import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// Shoal against real clients, all on 127.0.0.1: libtorrent (python3-libtorrent) and aria2 seed
/// to Shoal and download from it, single-file and multi-file. DHT, LSD, UPnP, NAT-PMP and PEX
/// are off in every client; the only tracker is the one the test runs. Each test checks the bytes.
@Suite("Interop with real clients", .serialized)
struct RealClientTests {
    enum Layout: String, CaseIterable, Sendable {
        case single, multi
    }

    static let python = "/usr/bin/python3"
    static let ltScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Scripts/lt_peer.py").path

    static func aria2Arguments(port: Int) -> [String] {
        ["--no-conf", "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
         "--disable-ipv6=true", "--summary-interval=0", "--console-log-level=warn", "--listen-port=\(port)",
         "--bt-stop-timeout=60", "--follow-torrent=false", "--file-allocation=none"]
    }

    /// Content for one test: 600 KiB-ish single file with a short last piece, or a tree with odd sizes.
    static func torrent(_ layout: Layout, harness: SwarmHarness, in directory: URL) throws -> (Metainfo, [String]) {
        switch layout {
        case .single:
            let metainfo = try harness.makeTorrent(name: "disk.img", files: nil, singleSize: 9 * 65_536 + 4_321,
                                                   pieceLength: 64 << 10, in: directory, seed: 31)
            return (metainfo, ["disk.img"])
        case .multi:
            let files: [(String, Int)] = [("a/one.bin", 100_000), ("a/tiny", 1), ("b.txt", 65_536), ("c/d/e.dat", 333_333)]
            let metainfo = try harness.makeTorrent(name: "tree", files: files, pieceLength: 32 << 10, in: directory, seed: 32)
            return (metainfo, files.map { "tree/\($0.0)" })
        }
    }

    /// A .torrent with the exact info bytes of `metainfo` (so real clients see the same
    /// info-hash) and one tracker, written under `directory`.
    static func write(_ metainfo: Metainfo, announce: String, in directory: URL) throws -> URL {
        var bytes = Array("d8:announce".utf8)
        let announce = Array(announce.utf8)
        bytes += Array("\(announce.count):".utf8) + announce + Array("4:info".utf8) + metainfo.rawInfo + [UInt8(ascii: "e")]
        let url = directory.appendingPathComponent("\(metainfo.infoHash.hex)-\(UUID().uuidString.prefix(8)).torrent")
        try Data(bytes).write(to: url)
        return url
    }

    static func write(_ metainfo: Metainfo, harness: SwarmHarness) throws -> URL {
        try write(metainfo, announce: harness.tracker.announceURL, in: harness.root)
    }

    /// A tracker, the content in `seedFolder`, its torrent and the .torrent file real clients read.
    static func prepare(_ layout: Layout, seedFolder: String) async throws
        -> (harness: SwarmHarness, seedDir: URL, metainfo: Metainfo, files: [String], file: URL)
    {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent(seedFolder)
        let (metainfo, files) = try torrent(layout, harness: harness, in: seedDir)
        return (harness, seedDir, metainfo, files, try write(metainfo, harness: harness))
    }

    static func expectSame(_ files: [String], _ a: URL, _ b: URL) {
        for file in files {
            #expect(FileManager.default.contentsEqual(atPath: a.appendingPathComponent(file).path,
                                                      andPath: b.appendingPathComponent(file).path), "\(file)")
        }
    }

    // MARK: Shoal downloads

    @Test("Shoal downloads from a libtorrent seeder", .enabled(if: ExternalProcess.available("/usr/bin/python3")),
          arguments: Layout.allCases)
    func shoalLeechesFromLibtorrent(layout: Layout) async throws {
        let (harness, seedDir, metainfo, files, file) = try await Self.prepare(layout, seedFolder: "lt-seed")
        let port = ExternalProcess.freePort()
        let seeder = try ExternalProcess(Self.python, [Self.ltScript, "seed", file.path, seedDir.path, String(port), "--timeout", "90"],
                                         logName: "lt-seed")
        #expect(await seeder.waitForOutput("complete", timeout: .seconds(60)), "\(seeder.output)")
        let leecher = try await harness.startSession("shoal")
        let hash = try await leecher.add(metainfo)
        await leecher.addPeers(hash, [PeerAddress(host: "127.0.0.1", port: UInt16(port))])
        let done = await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true }
        #expect(done, "\(seeder.output)")
        let snapshot = await leecher.snapshot().torrents.first
        #expect(snapshot?.hashFailures == 0)
        Self.expectSame(files, seedDir, harness.root.appendingPathComponent("shoal"))
        await seeder.stop()
        await harness.stopAll()
    }

    @Test("Shoal downloads from an aria2 seeder", .enabled(if: ExternalProcess.available("aria2c")),
          arguments: Layout.allCases)
    func shoalLeechesFromAria2(layout: Layout) async throws {
        let (harness, seedDir, metainfo, files, file) = try await Self.prepare(layout, seedFolder: "aria2-seed")
        let port = ExternalProcess.freePort()
        let seeder = try ExternalProcess(ExternalProcess.which("aria2c") ?? "/usr/bin/aria2c",
                                         Self.aria2Arguments(port: port) + ["--seed-ratio=0.0", "--check-integrity=true",
                                                                            "-d", seedDir.path, file.path],
                                         logName: "aria2-seed")
        let leecher = try await harness.startSession("shoal")
        let hash = try await leecher.add(metainfo)
        await leecher.addPeers(hash, [PeerAddress(host: "127.0.0.1", port: UInt16(port))])
        let done = await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true }
        #expect(done, "\(seeder.output)")
        Self.expectSame(files, seedDir, harness.root.appendingPathComponent("shoal"))
        await seeder.stop()
        await harness.stopAll()
    }

    // MARK: Shoal seeds

    @Test("A libtorrent leecher downloads from a Shoal seeder", .enabled(if: ExternalProcess.available("/usr/bin/python3")),
          arguments: Layout.allCases)
    func libtorrentLeechesFromShoal(layout: Layout) async throws {
        let (harness, seedDir, metainfo, files, file) = try await Self.prepare(layout, seedFolder: "shoal")
        let seeder = try await harness.startSession("shoal")
        try await seeder.add(metainfo)
        let seeding = await harness.waitUntil(timeout: .seconds(60)) { await seeder.snapshot().torrents.first?.activity == .seeding }
        #expect(seeding)
        let leechDir = harness.root.appendingPathComponent("lt-leech")
        let leecher = try ExternalProcess(Self.python, [Self.ltScript, "leech", file.path, leechDir.path,
                                                        String(ExternalProcess.freePort()),
                                                        "--peer", "127.0.0.1:\(seeder.listenPort)", "--timeout", "60"],
                                          logName: "lt-leech")
        let status = await leecher.wait(timeout: .seconds(70))
        #expect(status == 0, "\(leecher.output)")
        Self.expectSame(files, seedDir, leechDir)
        let uploaded = await seeder.snapshot().torrents.first?.uploaded ?? 0
        #expect(uploaded >= metainfo.info.totalLength)
        await harness.stopAll()
    }

    @Test("An aria2 leecher downloads from a Shoal seeder", .enabled(if: ExternalProcess.available("aria2c")),
          arguments: Layout.allCases)
    func aria2LeechesFromShoal(layout: Layout) async throws {
        let (harness, seedDir, metainfo, files, file) = try await Self.prepare(layout, seedFolder: "shoal")
        let seeder = try await harness.startSession("shoal")
        try await seeder.add(metainfo)
        let seeding = await harness.waitUntil(timeout: .seconds(60)) {
            let torrent = await seeder.snapshot().torrents.first
            return torrent?.activity == .seeding && torrent?.trackers.first?.status == "working"
        }
        #expect(seeding)
        // aria2 has no option to dial a peer: it finds the Shoal seeder through the tracker.
        let leechDir = harness.root.appendingPathComponent("aria2-leech")
        let leecher = try ExternalProcess(ExternalProcess.which("aria2c") ?? "/usr/bin/aria2c",
                                          Self.aria2Arguments(port: ExternalProcess.freePort()) + ["--seed-time=0", "-d", leechDir.path, file.path],
                                          logName: "aria2-leech")
        let status = await leecher.wait(timeout: .seconds(70))
        #expect(status == 0, "\(leecher.output)")
        Self.expectSame(files, seedDir, leechDir)
        await harness.stopAll()
    }
}

/// Magnet links across clients: metadata exchange (BEP 9) with libtorrent in both directions.
@Suite("Magnets with libtorrent", .serialized)
struct MagnetInteropTests {
    @Test("libtorrent fetches metadata from a Shoal seeder by magnet", .enabled(if: ExternalProcess.available("/usr/bin/python3")))
    func libtorrentMagnetFromShoal() async throws {
        let (harness, seedDir, metainfo, files, _) = try await RealClientTests.prepare(.multi, seedFolder: "shoal")
        let seeder = try await harness.startSession("shoal")
        try await seeder.add(metainfo)
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await seeder.snapshot().torrents.first?.activity == .seeding })
        let leechDir = harness.root.appendingPathComponent("lt-leech")
        let magnet = MagnetLink(infoHash: metainfo.infoHash, displayName: "tree").uri
        let leecher = try ExternalProcess(RealClientTests.python, [RealClientTests.ltScript, "leech", magnet, leechDir.path,
                                                                   String(ExternalProcess.freePort()),
                                                                   "--peer", "127.0.0.1:\(seeder.listenPort)", "--timeout", "60"],
                                          logName: "lt-magnet")
        #expect(await leecher.wait(timeout: .seconds(70)) == 0, "\(leecher.output)")
        RealClientTests.expectSame(files, seedDir, leechDir)
        await harness.stopAll()
    }

    @Test("Shoal fetches metadata from a libtorrent seeder by magnet", .enabled(if: ExternalProcess.available("/usr/bin/python3")))
    func shoalMagnetFromLibtorrent() async throws {
        let (harness, seedDir, metainfo, files, file) = try await RealClientTests.prepare(.multi, seedFolder: "lt-seed")
        let port = ExternalProcess.freePort()
        let seeder = try ExternalProcess(RealClientTests.python, [RealClientTests.ltScript, "seed", file.path, seedDir.path, String(port),
                                                                  "--timeout", "90"], logName: "lt-seed")
        #expect(await seeder.waitForOutput("complete", timeout: .seconds(60)), "\(seeder.output)")
        let leecher = try await harness.startSession("shoal")
        try await leecher.add(magnet: MagnetLink(infoHash: metainfo.infoHash, peers: ["127.0.0.1:\(port)"]))
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true },
                "\(seeder.output)")
        let done = await leecher.snapshot().torrents.first
        #expect(done?.name == "tree" && done?.hashFailures == 0)
        RealClientTests.expectSame(files, seedDir, harness.root.appendingPathComponent("shoal"))
        await seeder.stop()
        await harness.stopAll()
    }
}
