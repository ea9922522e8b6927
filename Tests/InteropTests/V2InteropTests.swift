import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// BitTorrent v2 (BEP 52) against libtorrent 2.0: v2-only and hybrid torrents libtorrent made,
/// downloaded from a libtorrent seeder by Shoal and from Shoal by libtorrent, bytes checked.
@Suite("v2 and hybrid torrents with libtorrent", .serialized)
struct V2InteropTests {
    static let createScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/lt_create.py").path

    enum Kind: String, CaseIterable, Sendable { case v2, hybrid }

    /// libtorrent's torrent of `content` (the file or folder), and the hashes it printed.
    static func libtorrentTorrent(of content: URL, kind: Kind, tracker: String, in directory: URL) async throws -> (URL, String) {
        let out = directory.appendingPathComponent("\(kind.rawValue)-\(UUID().uuidString.prefix(6)).torrent")
        let create = try ExternalProcess(RealClientTests.python, [createScript, content.path, out.path, "--kind", kind.rawValue,
                                                                  "--tracker", tracker], logName: "lt-create")
        #expect(await create.wait(timeout: .seconds(60)) == 0, "\(create.output)")
        return (out, create.output)
    }

    static func content(_ layout: RealClientTests.Layout, _ harness: SwarmHarness, in directory: URL) throws -> (URL, [String]) {
        let (metainfo, files) = try RealClientTests.torrent(layout, harness: harness, in: directory)
        return (directory.appendingPathComponent(metainfo.info.name), files)
    }

    static let cases: [(RealClientTests.Layout, Kind)] = RealClientTests.Layout.allCases.flatMap { layout in Kind.allCases.map { (layout, $0) } }

    @Test("libtorrent seeds a torrent it made, Shoal downloads it", .enabled(if: ExternalProcess.available("/usr/bin/python3")),
          arguments: cases)
    func shoalDownloadsFromLibtorrent(_ layout: RealClientTests.Layout, _ kind: Kind) async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("lt-seed")
        let (content, files) = try Self.content(layout, harness, in: seedDir)
        let (file, hashes) = try await Self.libtorrentTorrent(of: content, kind: kind, tracker: harness.tracker.announceURL, in: harness.root)
        let metainfo = try Metainfo(bytes: Array(Data(contentsOf: file)))
        // The hashes libtorrent computes are Shoal's.
        #expect(hashes.contains("v2 " + Hex.encode(metainfo.infoHashV2 ?? [])), "\(hashes)")
        if kind == .hybrid { #expect(hashes.contains("v1 " + metainfo.infoHash.hex)) }
        let seeder = try ExternalProcess(RealClientTests.python, [RealClientTests.ltScript, "seed", file.path, seedDir.path,
                                                                  String(ExternalProcess.freePort()), "--timeout", "120"], logName: "lt-seed-v2")
        defer { seeder.stop() }
        #expect(await seeder.waitForOutput("listening", timeout: .seconds(30)), "\(seeder.output)")
        let leecher = try await harness.startSession("leech")
        try await leecher.add(metainfo)
        let done = await harness.waitUntil(timeout: .seconds(90)) { await leecher.snapshot().torrents.first?.isComplete == true }
        let state = await leecher.snapshot().torrents.first
        #expect(done, "\(String(describing: state?.closeReasons)) \(seeder.output.suffix(1_500))")
        #expect(state?.hashFailures == 0)
        RealClientTests.expectSame(files, seedDir, harness.root.appendingPathComponent("leech"))
        await harness.stopAll()
        await seeder.stop()
    }

    @Test("Shoal seeds a torrent libtorrent made, libtorrent downloads it", .enabled(if: ExternalProcess.available("/usr/bin/python3")),
          arguments: cases)
    func libtorrentDownloadsFromShoal(_ layout: RealClientTests.Layout, _ kind: Kind) async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let (content, files) = try Self.content(layout, harness, in: seedDir)
        let (file, _) = try await Self.libtorrentTorrent(of: content, kind: kind, tracker: harness.tracker.announceURL, in: harness.root)
        let metainfo = try Metainfo(bytes: Array(Data(contentsOf: file)))
        let seeder = try await harness.startSession("seed") { $0.downloadDirectory = seedDir.path }
        try await seeder.add(metainfo)
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await seeder.snapshot().torrents.first?.activity == .seeding },
                "Shoal checks libtorrent's hashes of its own data")
        let leechDir = harness.root.appendingPathComponent("lt-leech")
        let leecher = try ExternalProcess(RealClientTests.python, [RealClientTests.ltScript, "leech", file.path, leechDir.path,
                                                                   String(ExternalProcess.freePort()), "--timeout", "90"], logName: "lt-leech-v2")
        let status = await leecher.wait(timeout: .seconds(100))
        let closes = await seeder.snapshot().torrents.first?.closeReasons
        #expect(status == 0, "\(leecher.output.suffix(1_500)) \(String(describing: closes))")
        RealClientTests.expectSame(files, seedDir, leechDir)
        await harness.stopAll()
    }
}
