import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// Nothing a torrent names, and nothing planted in the download directory, makes Shoal write
/// outside it. Torrents with `..`, absolute, empty or duplicate paths are loaded with their
/// names sanitized (WildTorrentTests); here they meet the disk.
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

    /// A name longer than filesystems allow is shortened (as libtorrent does), so the torrent
    /// can still be downloaded.
    @Test func overlongNameIsShortened() async throws {
        let harness = try SwarmHarness()
        let long = String(repeating: "n", count: 300) + ".txt"
        var builder = MetainfoBuilder(name: "long", files: [.init(path: [long], length: 10)], length: 10, pieceLength: 16 << 10,
                                      pieceHashes: [UInt8](repeating: 0, count: 20))
        builder.trackerTiers = []
        let torrent = try Metainfo(bytes: builder.encoded())
        let leecher = try await harness.startSession("leech")
        try await leecher.add(torrent)
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await leecher.snapshot().torrents.first?.activity == .downloading })
        let file = try #require(await leecher.snapshot().torrents.first?.files.first)
        #expect(file.path.utf8.count <= 255 && file.path.hasSuffix(".txt"), "\(file.path.utf8.count) bytes")
        await harness.stopAll()
    }

    /// Hostile and odd names — `..`, absolute, slashes inside, duplicates, Latin-1 bytes — are
    /// downloaded under their sanitized names, all inside the download directory.
    @Test func sanitizedNamesDownloadInside() async throws {
        let harness = try SwarmHarness()
        let latin1 = [Array("caf".utf8) + [0xE9] + Array(".txt".utf8), Array("caf".utf8) + [0xE8] + Array(".txt".utf8)]
        let raw: [[[UInt8]]] = [["..", "..", "escape.bin"], ["/etc", "passwd"], ["a/../../b"], ["dup.bin"], ["dup.bin"]]
            .map { $0.map { Array($0.utf8) } } + latin1.map { [$0] }
        let sizes = [30_000, 20_000, 10_000, 5_000, 6_000, 7_000, 8_000]
        let content = raw.indices.map { SwarmHarness.bytes(sizes[$0], seed: UInt64(200 + $0)) }
        let stream = content.flatMap { $0 }
        let hashes = stride(from: 0, to: stream.count, by: 16 << 10).flatMap { start in
            InfoHash(hashingInfo: Array(stream[start..<min(stream.count, start + (16 << 10))])).bytes
        }
        var builder = MetainfoBuilder(name: "../hostile", files: zip(raw, sizes).map { .init(rawPath: $0, length: Int64($1)) },
                                      length: Int64(stream.count), pieceLength: 16 << 10, pieceHashes: hashes)
        builder.trackerTiers = []
        let torrent = try Metainfo(bytes: builder.encoded())
        // The seeder's copy, where the sanitized names say.
        let seedRoot = harness.root.appendingPathComponent("seed")
        for (file, data) in zip(torrent.info.files, content) {
            let path = DiskPath(root: seedRoot.path, components: [torrent.info.diskName] + file.diskPath)
            let parent = DiskPath(Array(path.bytes[..<path.bytes.lastIndex(of: UInt8(ascii: "/"))!]))
            try FileManager.default.createDirectory(atPath: parent.description, withIntermediateDirectories: true)
            let fd = path.withCString { open($0, O_CREAT | O_WRONLY, 0o644) }
            #expect(fd >= 0)
            _ = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        let outside = harness.root.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        let leecher = try await Self.seedAndLeech(harness, torrent)
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true })
        let leechRoot = harness.root.appendingPathComponent("leech")
        #expect(try FileManager.default.contentsOfDirectory(atPath: leechRoot.path) == [".._hostile"])
        for (file, data) in zip(torrent.info.files, content) {
            let path = DiskPath(root: leechRoot.path, components: [torrent.info.diskName] + file.diskPath)
            #expect(path.status()?.st_size == off_t(data.count), "\(path)")
        }
        #expect(Set(torrent.info.files.map(\.displayPath)) == ["escape.bin", "_etc/passwd", "a_.._.._b", "dup.bin", "dup.1.bin",
                                                              "café.txt", "cafè.txt"])
        #expect(Self.outsideIsUntouched(outside))
        #expect(!FileManager.default.fileExists(atPath: harness.root.appendingPathComponent("escape.bin").path))
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
