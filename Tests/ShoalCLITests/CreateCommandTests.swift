import Foundation
import ShoalCore
import Testing

@Suite("shoal create")
struct CreateCommandTests {
    @Test func writesTiersPrivateCommentAndAutomaticPieceSize() async throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("data.bin", bytes: 5_000_000, seed: 11)
        let out = directory.url.appendingPathComponent("x.torrent")
        let result = try await ShoalBinary.run([
            "create", file.path, "-t", "http://127.0.0.1:1/a,udp://127.0.0.1:2/b", "-t", "http://127.0.0.1:3/c",
            "--private", "--comment", "hi there", "-o", out.path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let metainfo = try Metainfo(bytes: Array(Data(contentsOf: out)))
        #expect(metainfo.trackerTiers == [["http://127.0.0.1:1/a", "udp://127.0.0.1:2/b"], ["http://127.0.0.1:3/c"]])
        #expect(metainfo.info.isPrivate)
        #expect(metainfo.comment == "hi there")
        #expect(metainfo.info.pieceLength == MetainfoBuilder.automaticPieceLength(totalLength: 5_000_000))
        #expect(result.stdout.contains(metainfo.infoHash.hex))
    }

    /// `-w` as mktorrent and transmission-create spell it; `shoal info` lists them as
    /// transmission-show does.
    @Test func webSeedsGoInTheURLListAndInfoShowsThem() async throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("data.bin", bytes: 100_000, seed: 12)
        let out = directory.url.appendingPathComponent("w.torrent")
        let result = try await ShoalBinary.run(["create", file.path, "-w", "http://127.0.0.1:1/pub/", "--web-seed",
                                                "https://127.0.0.1:2/data.bin", "-o", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let metainfo = try Metainfo(bytes: Array(Data(contentsOf: out)))
        #expect(metainfo.urlList == ["http://127.0.0.1:1/pub/", "https://127.0.0.1:2/data.bin"])
        let info = try await ShoalBinary.run(["info", out.path])
        #expect(info.stdout.contains("WEBSEEDS\n\n  http://127.0.0.1:1/pub/\n  https://127.0.0.1:2/data.bin\n"), "\(info.stdout)")
        #expect(try await ShoalBinary.run(["info", "--json", out.path]).stdout.contains("\"webSeeds\""))
    }

    @Test func refusesToOverwriteWithoutForce() async throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("d.bin", bytes: 1000, seed: 1)
        let out = directory.url.appendingPathComponent("d.torrent")
        try Data("keep me".utf8).write(to: out)
        let refused = try await ShoalBinary.run(["create", file.path, "-o", out.path])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("already exists"))
        #expect(try String(contentsOf: out, encoding: .utf8) == "keep me")
        #expect(try await ShoalBinary.run(["create", file.path, "-o", out.path, "--force"]).status == 0)
    }

    static let badInvocations: [([String], String)] = [
        (["create", "/nonexistent/shoal-path"], "No such file"),
        (["create", "FILE", "--piece-size", "1000"], "power of two"),
        (["create", "FILE", "--piece-size", "64M"], "power of two"),
        (["create", "FILE", "-t", "not-a-url"], "not a URL"),
        (["create", "FILE", "-w", "ftp://127.0.0.1/x"], "not an http:// or https:// URL"),
        (["create", "FILE", "--v2", "--hybrid"], "cannot be used together"),
        (["create", "EMPTY"], "is empty"),
    ]

    @Test("bad input gives one clear line and status 1", arguments: badInvocations)
    func badInput(arguments: [String], message: String) async throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("f.bin", bytes: 100, seed: 1)
        let empty = try directory.write("empty", bytes: 0, seed: 1)
        let resolved = arguments.map { $0 == "FILE" ? file.path : $0 == "EMPTY" ? empty.path : $0 }
        let result = try await ShoalBinary.run(resolved + ["-o", directory.url.appendingPathComponent("o.torrent").path])
        #expect(result.status == 1)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }
}
