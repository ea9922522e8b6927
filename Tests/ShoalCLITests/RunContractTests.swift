import Crypto
import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// The run command as a new user meets it: names that try to drive the terminal, relative
/// directories, a torrent that cannot finish under `--exit-when-done`, the announce floor.
@Suite("shoal run: contracts found by new users", .serialized)
struct RunContractTests {
    static let hostileName = "\u{1B}]0;PWNED\u{07}\u{1B}[2Jevil\u{202E}txt.exe"
    /// What it becomes, on disk and on screen.
    static let safeName = "_]0;PWNED__[2Jevil_txt.exe"

    /// A one-piece torrent of `bytes` named `name`, written to `path`.
    static func writeTorrent(name: String, bytes: [UInt8], to path: URL, trackers: [[String]] = []) throws {
        let hash = Array(Insecure.SHA1.hash(data: bytes))
        var builder = MetainfoBuilder(name: name, files: nil, length: Int64(bytes.count), pieceLength: 16 << 10, pieceHashes: hash)
        builder.trackerTiers = trackers
        try Data(builder.encoded()).write(to: path)
    }

    static func hasNoEscapes(_ text: String) -> Bool {
        !text.unicodeScalars.contains { TerminalText.isUnsafe($0, keepNewlines: true) }
    }

    @Test func infoShowsAHostileNameWithoutItsEscapes() async throws {
        let directory = try TemporaryDirectory()
        let torrent = directory.url.appendingPathComponent("hostile.torrent")
        try Self.writeTorrent(name: Self.hostileName, bytes: [UInt8](repeating: 7, count: 1000), to: torrent)
        let text = try await ShoalBinary.run(["info", torrent.path])
        #expect(text.status == 0)
        #expect(Self.hasNoEscapes(text.stdout), "\(Array(text.stdout.utf8.prefix(80)))")
        // The name is sanitized when the torrent is read (it is also the file's name on disk).
        #expect(text.stdout.contains("Name: \(Self.safeName)"))
        let json = try await ShoalBinary.run(["info", "--json", torrent.path])
        #expect(Self.hasNoEscapes(json.stdout))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["name"] as? String == Self.safeName)

        let magnet = "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=%1B%5D0%3BPWNED%07%1B%5B2J"
        let shown = try await ShoalBinary.run(["info", magnet])
        #expect(shown.status == 0)
        #expect(Self.hasNoEscapes(shown.stdout))
        #expect(shown.stdout.contains("Name: ?]0;PWNED??[2J"))
    }

    @Test func headlessLinesCarryNoEscapes() async throws {
        let directory = try TemporaryDirectory()
        let bytes = [UInt8](repeating: 9, count: 5000)
        let torrent = directory.url.appendingPathComponent("hostile.torrent")
        try Self.writeTorrent(name: Self.hostileName, bytes: bytes, to: torrent)
        let downloads = directory.url.appendingPathComponent("dl")
        try FileManager.default.createDirectory(at: downloads, withIntermediateDirectories: true)
        try Data(bytes).write(to: downloads.appendingPathComponent(Self.safeName))
        let result = try await ShoalBinary.run(["--headless", "--exit-when-done", "--bind", "127.0.0.1", "--port", "0",
                                          "--download-dir", downloads.path, "--state-dir",
                                          directory.url.appendingPathComponent("state").path, torrent.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("completed: \(Self.safeName)"))
        #expect(Self.hasNoEscapes(result.stdout) && Self.hasNoEscapes(result.stderr))
    }

    /// `cd A; shoal --download-dir dl ...`, then the same state from another directory: the
    /// torrent is still A/dl's, complete, and nothing appears under the new working directory.
    @Test func relativeDownloadDirectoryIsSavedAbsolute() async throws {
        let directory = try TemporaryDirectory()
        let first = directory.url.appendingPathComponent("A")
        let elsewhere = directory.url.appendingPathComponent("B")
        for place in [first, elsewhere] { try FileManager.default.createDirectory(at: place, withIntermediateDirectories: true) }
        let bytes = SwarmHarness.bytes(40_000, seed: 61)
        let torrent = directory.url.appendingPathComponent("rel.torrent")
        try Self.writeTorrent(name: "rel.bin", bytes: Array(bytes.prefix(16_384)), to: torrent)
        try FileManager.default.createDirectory(at: first.appendingPathComponent("dl"), withIntermediateDirectories: true)
        try Data(bytes.prefix(16_384)).write(to: first.appendingPathComponent("dl/rel.bin"))
        let state = directory.url.appendingPathComponent("state").path
        let common = ["--headless", "--exit-when-done", "--bind", "127.0.0.1", "--port", "0", "--state-dir", state]
        let made = try await ShoalBinary.run(common + ["--download-dir", "dl", torrent.path], in: first)
        #expect(made.status == 0, "\(made.stderr)")
        let again = try ExternalProcess(ShoalBinary.url.path, common, directory: elsewhere, logName: "relative")
        #expect(await again.wait(timeout: .seconds(30)) == 0, "the restored torrent is not complete: \(again.output)")
        #expect(!FileManager.default.fileExists(atPath: elsewhere.appendingPathComponent("dl").path))
        let session = try String(contentsOfFile: state + "/session.json", encoding: .utf8)
        #expect(session.contains(first.appendingPathComponent("dl").path.replacingOccurrences(of: "/", with: "\\/")))
    }

    /// A torrent stopped by an error never completes: `--exit-when-done` exits 1 naming it
    /// instead of waiting for ever.
    @Test func exitWhenDoneFailsOnATorrentInError() async throws {
        let directory = try TemporaryDirectory()
        let torrent = directory.url.appendingPathComponent("set.torrent")
        let content = try directory.write("src/set/a.bin", bytes: 30_000, seed: 62)
        #expect(try await ShoalBinary.run(["create", content.deletingLastPathComponent().path, "-o", torrent.path]).status == 0)
        let downloads = directory.url.appendingPathComponent("dl")
        try FileManager.default.createDirectory(at: downloads, withIntermediateDirectories: true)
        // A file where the torrent's directory must go.
        try Data("in the way".utf8).write(to: downloads.appendingPathComponent("set"))
        let run = try ExternalProcess(ShoalBinary.url.path, ["--headless", "--exit-when-done", "--bind", "127.0.0.1", "--port", "0",
                                                             "--download-dir", downloads.path, "--state-dir",
                                                             directory.url.appendingPathComponent("state").path, torrent.path],
                                      logName: "exit-error")
        let status = await run.wait(timeout: .seconds(30))
        #expect(status == 1, "\(run.output)")
        #expect(run.output.contains("error: set:"), "\(run.output)")
        #expect(run.output.contains("shoal: set: ") && run.output.contains("cannot complete"), "\(run.output)")
    }

    /// The client's floor between announces is a setting: at 2 s against a tracker asking for
    /// 1 s, three announces take at least two floors.
    @Test func minAnnounceIntervalIsASetting() async throws {
        let directory = try TemporaryDirectory()
        let tracker = try await TrackerProcess.start(interval: 1)
        let bytes = [UInt8](repeating: 3, count: 2000)
        let torrent = directory.url.appendingPathComponent("floor.torrent")
        try Self.writeTorrent(name: "floor.bin", bytes: bytes, to: torrent, trackers: [[tracker.httpURL]])
        try Data(bytes).write(to: directory.url.appendingPathComponent("floor.bin"))
        let start = ContinuousClock.now
        let seeder = try ExternalProcess(ShoalBinary.url.path, ["--headless", "--bind", "127.0.0.1", "--port", "0",
                                                                "--min-announce-interval", "2", "--download-dir", directory.url.path,
                                                                "--state-dir", directory.url.appendingPathComponent("state").path,
                                                                torrent.path], logName: "floor")
        let stats = "http://127.0.0.1:\(tracker.httpPort)/stats?format=json"
        let reached = await SwarmHarness.poll(timeout: .seconds(30)) { await Self.announceCount(stats) >= 3 }
        #expect(reached)
        #expect(ContinuousClock.now - start >= .seconds(4), "three announces came sooner than two 2 s floors")
        await seeder.stop()
        _ = await tracker.interrupt()
        let zero = try await ShoalBinary.run(["--headless", "--min-announce-interval", "0"])
        #expect(zero.status != 0)
        let config = directory.url.appendingPathComponent("config.toml")
        try Data("min_announce_interval = 120\n".utf8).write(to: config)
        let printed = try await ShoalBinary.run(["config", "--print", "--config", config.path])
        #expect(printed.stdout.contains("min_announce_interval = 120"))
    }

    static func announceCount(_ url: String) async -> Int {
        guard let reply = try? await HTTPClient.fetch(url, timeout: .seconds(5)),
            let object = try? JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any]
        else { return 0 }
        return object["announces"] as? Int ?? 0
    }
}
