import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// `shoal create` must give the same info-hash as mktorrent and libtorrent for the same content,
/// piece size and tracker.
@Suite("shoal create vs mktorrent and libtorrent", .serialized)
struct CreateInteropTests {
    static let tracker = "http://127.0.0.1:6969/announce"

    /// Content sets: single file, short last piece, many files with odd sizes, nested, non-ASCII,
    /// a hidden file, a 1-byte file and an empty file.
    static func makeContent(in directory: TemporaryDirectory) throws -> [URL] {
        let single = try directory.write("content/single.iso", bytes: 3 * 65536 + 777, seed: 1)
        let tiny = try directory.write("content/tiny", bytes: 1, seed: 2)
        let tree = directory.url.appendingPathComponent("content/tree")
        _ = try directory.write("content/tree/b.bin", bytes: 100_000, seed: 3)
        _ = try directory.write("content/tree/a/deep/x.dat", bytes: 12_345, seed: 4)
        _ = try directory.write("content/tree/.hidden", bytes: 10, seed: 5)
        _ = try directory.write("content/tree/Ünïcødé 名前.txt", bytes: 4_321, seed: 6)
        _ = try directory.write("content/tree/one", bytes: 1, seed: 7)
        _ = try directory.write("content/tree/a.bin", bytes: 65536, seed: 8)
        return [single, tiny, tree]
    }

    func shoalHash(_ content: URL, pieceSize: Int, in directory: TemporaryDirectory) async throws -> String {
        let out = directory.url.appendingPathComponent("shoal-\(UUID().uuidString).torrent")
        let result = try await ShoalBinary.run(["create", content.path, "-t", Self.tracker, "--piece-size", String(pieceSize), "-o", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        return try Metainfo(bytes: Array(Data(contentsOf: out))).infoHash.hex
    }

    @Test(.enabled(if: ShoalBinary.hasTools("mktorrent")), arguments: [15, 16, 18])
    func matchesMktorrent(exponent: Int) async throws {
        let directory = try TemporaryDirectory()
        for content in try Self.makeContent(in: directory) {
            let out = directory.url.appendingPathComponent("mk-\(UUID().uuidString).torrent")
            let mk = try await ShoalBinary.execute(try #require(ShoalBinary.tool("mktorrent")),
                                             ["-a", Self.tracker, "-l", String(exponent), "-o", out.path, content.path])
            #expect(mk.status == 0, "\(mk.stderr)")
            let expected = try Metainfo(bytes: Array(Data(contentsOf: out))).infoHash.hex
            await #expect(try shoalHash(content, pieceSize: 1 << exponent, in: directory) == expected, "\(content.lastPathComponent)")
        }
    }

    /// libtorrent hashes files in the order it is given them; the script gives it Shoal's order
    /// (full path, byte by byte), as mktorrent uses, and asks for a v1-only torrent.
    static let libtorrentScript = """
        import os, sys, libtorrent as lt
        path, piece, tracker = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        fs = lt.file_storage()
        if os.path.isfile(path):
            fs.add_file(os.path.basename(path), os.path.getsize(path))
        else:
            entries = []
            for d, _, names in os.walk(path):
                for n in names:
                    rel = os.path.relpath(os.path.join(d, n), os.path.dirname(path))
                    entries.append((rel.encode(), rel, os.path.getsize(os.path.join(d, n))))
            for _, rel, size in sorted(entries):
                fs.add_file(rel, size)
        ct = lt.create_torrent(fs, piece, flags=lt.create_torrent.v1_only)
        ct.add_tracker(tracker)
        lt.set_piece_hashes(ct, os.path.dirname(path))
        print(lt.torrent_info(ct.generate()).info_hash())
        """

    @Test(.enabled(if: ShoalBinary.hasTools("/usr/bin/python3")), arguments: [16 << 10, 32 << 10, 256 << 10])
    func matchesLibtorrent(pieceSize: Int) async throws {
        let directory = try TemporaryDirectory()
        for content in try Self.makeContent(in: directory) {
            let lt = try await ShoalBinary.execute(URL(fileURLWithPath: "/usr/bin/python3"),
                                             ["-c", Self.libtorrentScript, content.path, String(pieceSize), Self.tracker])
            #expect(lt.status == 0, "\(lt.stderr)")
            let expected = lt.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(expected.count == 40)
            await #expect(try shoalHash(content, pieceSize: pieceSize, in: directory) == expected, "\(content.lastPathComponent)")
        }
    }

    /// A directory holding a file whose name is not UTF-8 (Latin-1 `café`, `cafè`): the torrent
    /// keeps the names' bytes, as mktorrent does, so the info-hash is mktorrent's (it once
    /// printed a false "No such file or directory", left the file out and exited 0). Seeding
    /// from the same directory then finds the files.
    @Test(.enabled(if: ShoalBinary.hasTools("mktorrent")))
    func nonUTF8NamesAreKeptAsBytes() async throws {
        let directory = try TemporaryDirectory()
        let tree = directory.url.appendingPathComponent("latin")
        _ = try directory.write("latin/plain.txt", bytes: 5_000, seed: 9)
        for (byte, seed) in [(UInt8(0xE9), UInt64(10)), (0xE8, 11)] {
            let path = DiskPath(root: tree.path, components: [Array("caf".utf8) + [byte] + Array(".txt".utf8)])
            let fd = path.withCString { open($0, O_CREAT | O_WRONLY, 0o644) }
            #expect(fd >= 0)
            let data = SwarmHarness.bytes(3_000, seed: seed)
            _ = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        let ours = directory.url.appendingPathComponent("shoal.torrent")
        let created = try await ShoalBinary.run(["create", tree.path, "-t", Self.tracker, "--piece-size", "32768", "-o", ours.path])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(!created.stderr.contains("No such file"), "\(created.stderr)")
        let metainfo = try Metainfo(bytes: Array(Data(contentsOf: ours)))
        #expect(metainfo.info.files.count == 3)
        #expect(Set(metainfo.info.files.map(\.displayPath)) == ["plain.txt", "café.txt", "cafè.txt"])
        let mkOut = directory.url.appendingPathComponent("mk.torrent")
        let mk = try await ShoalBinary.execute(try #require(ShoalBinary.tool("mktorrent")), ["-a", Self.tracker, "-l", "15", "-o", mkOut.path, tree.path])
        #expect(mk.status == 0, "\(mk.stderr)")
        #expect(metainfo.infoHash == (try Metainfo(bytes: Array(Data(contentsOf: mkOut)))).infoHash)
        // The creator seeds it from where it is: every piece is found on disk.
        let seeded = try await ShoalBinary.run(["--headless", "--exit-when-done", "--bind", "127.0.0.1", "--port", "0", "--download-dir",
                                          directory.url.path, "--state-dir", directory.url.appendingPathComponent("state").path, ours.path])
        #expect(seeded.status == 0, "\(seeded.stderr)")
        #expect(seeded.stdout.contains("completed: latin (1/1 pieces verified)"), "\(seeded.stdout)")
    }

    /// `--v2` and `--hybrid` make what libtorrent 2 makes from the same files and piece size:
    /// the same info-hashes (v1 and v2), whatever order the names sort in (`sub/…` before
    /// `sub.txt` in a file tree, after it in a full-path sort), with a file over a piece, one of
    /// exactly two pieces, an empty one and a short last piece. Shoal then seeds it from where it is.
    @Test(.enabled(if: ShoalBinary.hasTools("/usr/bin/python3")), arguments: ["v2", "hybrid"])
    func v2AndHybridMatchLibtorrent(kind: String) async throws {
        let directory = try TemporaryDirectory()
        let tree = directory.url.appendingPathComponent("content/tree")
        _ = try directory.write("content/tree/big.bin", bytes: 100_000, seed: 20)
        _ = try directory.write("content/tree/sub/small.txt", bytes: 5_000, seed: 21)
        _ = try directory.write("content/tree/sub.txt", bytes: 777, seed: 22)
        _ = try directory.write("content/tree/sub.d/x", bytes: 40_000, seed: 23)
        _ = try directory.write("content/tree/exact.bin", bytes: 65_536, seed: 24)
        _ = try directory.write("content/tree/empty", bytes: 0, seed: 25)
        let single = try directory.write("content/alone.iso", bytes: 3 * 32_768 + 5, seed: 26)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("InteropTests/Scripts/lt_create.py").path
        for content in [tree, single] {
            let ltOut = directory.url.appendingPathComponent("lt-\(UUID().uuidString).torrent")
            let lt = try await ShoalBinary.execute(URL(fileURLWithPath: "/usr/bin/python3"),
                                                   [script, content.path, ltOut.path, "--kind", kind, "--tracker", Self.tracker])
            #expect(lt.status == 0, "\(lt.stderr)")
            let expected = try Metainfo(bytes: Array(Data(contentsOf: ltOut)))
            let ours = directory.url.appendingPathComponent("shoal-\(UUID().uuidString).torrent")
            let created = try await ShoalBinary.run(["create", content.path, "--\(kind)", "-t", Self.tracker, "--piece-size", "32768",
                                                     "-o", ours.path])
            #expect(created.status == 0, "\(created.stderr)")
            let metainfo = try Metainfo(bytes: Array(Data(contentsOf: ours)))
            #expect(metainfo.infoHash == expected.infoHash && metainfo.infoHashV2 == expected.infoHashV2, "\(content.lastPathComponent)")
            #expect(metainfo.rawInfo == expected.rawInfo && metainfo.rawPieceLayers == expected.rawPieceLayers, "byte for byte")
            let seeded = try await ShoalBinary.run(["--headless", "--exit-when-done", "--bind", "127.0.0.1", "--port", "0", "--download-dir",
                                                    content.deletingLastPathComponent().path, "--state-dir",
                                                    directory.url.appendingPathComponent("state-\(UUID().uuidString)").path, ours.path])
            #expect(seeded.stdout.contains("completed: \(metainfo.info.name)"), "\(seeded.stdout) \(seeded.stderr)")
        }
    }
}
