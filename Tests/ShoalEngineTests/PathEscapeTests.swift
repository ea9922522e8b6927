import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// Nothing a torrent names, and nothing planted in the download directory, makes Shoal write
/// outside it. Torrents with `..`, absolute, empty or duplicate paths are refused when parsed
/// (MetainfoValidationTests); these are the cases that parse but meet the disk.
@Suite("Path escapes on disk", .serialized)
struct PathEscapeTests {
    static func seedAndLeech(_ harness: SwarmHarness, _ torrent: Metainfo) async throws -> Session {
        let seeder = try await harness.startSession("seed")
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        let leecher = try await harness.startSession("leech")
        try await leecher.add(torrent)
        await leecher.addPeers(torrent.infoHash, [PeerAddress(host: "127.0.0.1", port: seeder.listenPort)])
        return leecher
    }

    static func outsideIsUntouched(_ outside: URL) -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: outside.path)) ?? ["?"]).isEmpty
    }

    /// A link where the torrent's directory goes, and one deeper down: both refused.
    @Test(arguments: ["tree", "tree/sub"])
    func plantedSymlinkIsNotFollowed(linkAt relative: String) async throws {
        let harness = try SwarmHarness()
        let torrent = try harness.makeTorrent(name: "tree", files: [("sub/a.bin", 40_000), ("b.bin", 30_000)], pieceLength: 16 << 10,
                                              in: harness.root.appendingPathComponent("seed"), seed: 71, trackers: [])
        let outside = harness.root.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        let link = harness.root.appendingPathComponent("leech/" + relative)
        try FileManager.default.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: outside)
        let leecher = try await Self.seedAndLeech(harness, torrent)
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.activity == .error })
        let error = await leecher.snapshot().torrents.first?.error ?? ""
        #expect(error.contains("symbolic link"), "\(error)")
        #expect(Self.outsideIsUntouched(outside), "nothing was written through the link")
        await harness.stopAll()
    }

    /// A name longer than filesystems allow is an error on that torrent, with the system's words.
    @Test func overlongNameIsAClearError() async throws {
        let harness = try SwarmHarness()
        let long = String(repeating: "n", count: 300)
        // No seeder could hold such a file here either: the torrent is built from metadata alone.
        var builder = MetainfoBuilder(name: "long", files: [.init(path: [long], length: 10)], length: 10, pieceLength: 16 << 10,
                                      pieceHashes: [UInt8](repeating: 0, count: 20))
        builder.trackerTiers = []
        let torrent = try Metainfo(bytes: builder.encoded())
        let leecher = try await harness.startSession("leech")
        try await leecher.add(torrent)
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await leecher.snapshot().torrents.first?.activity == .error })
        let error = await leecher.snapshot().torrents.first?.error ?? ""
        #expect(error.contains("too long"), "\(error)")
        await harness.stopAll()
    }

    /// Names reserved on other systems (CON, NUL, aux.txt) are ordinary on Linux: they download,
    /// inside the download directory.
    @Test func reservedNamesStayInside() async throws {
        let harness = try SwarmHarness()
        let files: [(path: String, size: Int)] = [("CON", 100), ("NUL.txt", 200), ("aux/com1", 300)]
        let torrent = try harness.makeTorrent(name: "odd", files: files, pieceLength: 16 << 10,
                                              in: harness.root.appendingPathComponent("seed"), seed: 72, trackers: [])
        let leecher = try await Self.seedAndLeech(harness, torrent)
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true })
        for file in files {
            #expect(SwarmHarness.sameContents(harness.root.appendingPathComponent("seed/odd/" + file.path),
                                              harness.root.appendingPathComponent("leech/odd/" + file.path)))
        }
        await harness.stopAll()
    }
}
