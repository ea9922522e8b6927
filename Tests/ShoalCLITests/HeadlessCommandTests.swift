import Foundation
import ShoalCore
import ShoalTestSupport
import Testing

/// The headless interface is a contract: flags, progress lines, exit statuses.
@Suite("shoal --headless and shoal tracker", .serialized)
struct HeadlessCommandTests {
    @Test func seedAndLeechAsSeparateProcesses() async throws {
        let directory = try TemporaryDirectory()
        let shoal = ShoalBinary.url.path
        let tracker = try ExternalProcess(shoal, ["tracker", "--bind", "127.0.0.1", "--http-port", "0", "--interval", "2"],
                                          logName: "tracker")
        #expect(await tracker.waitForOutput("tracker: http://", timeout: .seconds(60)))
        let url = try #require(tracker.output.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        let content = try directory.write("seed/payload.bin", bytes: 2_000_003, seed: 99)
        let torrent = directory.url.appendingPathComponent("payload.torrent")
        #expect(try await ShoalBinary.run(["create", content.path, "-t", url, "-o", torrent.path]).status == 0)

        let seedPort = ExternalProcess.freePort()
        let seeder = try ExternalProcess(shoal, ["--headless", "--bind", "127.0.0.1", "--port", String(seedPort),
                                                 "--download-dir", directory.url.appendingPathComponent("seed").path,
                                                 "--state-dir", directory.url.appendingPathComponent("state-seed").path,
                                                 torrent.path], logName: "seed")
        #expect(await seeder.waitForOutput("completed: payload.bin", timeout: .seconds(60)), "\(seeder.output)")

        let leechDir = directory.url.appendingPathComponent("leech")
        let leecher = try ExternalProcess(shoal, ["--headless", "--bind", "127.0.0.1", "--port", String(ExternalProcess.freePort()),
                                                  "--download-dir", leechDir.path,
                                                  "--state-dir", directory.url.appendingPathComponent("state-leech").path,
                                                  "--exit-when-done", torrent.path], logName: "leech")
        let status = await leecher.wait(timeout: .seconds(60))
        #expect(status == 0, "\(leecher.output)")
        #expect(FileManager.default.contentsEqual(atPath: content.path, andPath: leechDir.appendingPathComponent("payload.bin").path))
        let lines = leecher.output.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("payload.bin  ") && $0.contains("%  down ") && $0.contains(" peers ") && $0.contains(" eta ") })
        #expect(lines.contains { $0.hasPrefix("completed: payload.bin") })

        // SIGTERM: the seeder says goodbye to the tracker and exits 0.
        seeder.process.terminate()
        #expect(await seeder.wait(timeout: .seconds(10)) == 0)
        tracker.process.interrupt()
        #expect(await tracker.wait(timeout: .seconds(10)) == 0)
    }

    /// Three processes and no tracker: a DHT router (a session with no torrents), a seeder and
    /// a leecher given only a magnet link, both joining the DHT through the router.
    @Test func magnetThroughTheDHTBetweenProcesses() async throws {
        let directory = try TemporaryDirectory()
        let shoal = ShoalBinary.url.path
        let content = try directory.write("seed/lone.bin", bytes: 400_000, seed: 77)
        let torrent = directory.url.appendingPathComponent("lone.torrent")
        #expect(try await ShoalBinary.run(["create", content.path, "-o", torrent.path]).status == 0)
        let hash = try #require(try await ShoalBinary.run(["info", "--json", torrent.path]).stdout
            .split(separator: "\"").first { $0.count == 40 && $0.allSatisfy(\.isHexDigit) }.map(String.init))
        func common(_ name: String, port: Int) -> [String] {
            ["--headless", "--bind", "127.0.0.1", "--port", String(port), "--state-dir", directory.url.appendingPathComponent("state-" + name).path]
        }
        let routerPort = ExternalProcess.freePort()
        let router = try ExternalProcess(shoal, common("router", port: routerPort) + ["--dht", "--download-dir", directory.url.path],
                                         logName: "dht-router")
        #expect(await router.waitForOutput("listening on port", timeout: .seconds(60)), "\(router.output)")
        let seeder = try ExternalProcess(shoal, common("seed", port: ExternalProcess.freePort())
                                            + ["--dht-bootstrap", "localhost:\(routerPort)", "--log-level", "debug", "--download-dir",
                                               content.deletingLastPathComponent().path, torrent.path], logName: "dht-seed")
        #expect(await seeder.waitForOutput("completed: lone.bin", timeout: .seconds(60)), "\(seeder.output)")
        // Its first DHT announce, taken by the router (the debug log says by how many nodes).
        let announced = await Self.waitFor(seeder, timeout: .seconds(30)) { line in line.contains(" DHT announce ") && !line.contains("nodes=0") }
        #expect(announced, "\(seeder.output)")
        let leechDir = directory.url.appendingPathComponent("leech")
        let leecher = try ExternalProcess(shoal, common("leech", port: ExternalProcess.freePort())
                                             + ["--dht-bootstrap", "127.0.0.1:\(routerPort)", "--download-dir", leechDir.path,
                                                "--exit-when-done", "magnet:?xt=urn:btih:\(hash)&dn=lone.bin"], logName: "dht-leech")
        #expect(await leecher.wait(timeout: .seconds(90)) == 0, "\(leecher.output)")
        #expect(leecher.output.contains("fetching metadata"), "the magnet shows its first phase")
        #expect(FileManager.default.contentsEqual(atPath: content.path, andPath: leechDir.appendingPathComponent("lone.bin").path))
        seeder.process.terminate()
        router.process.terminate()
        #expect(await seeder.wait(timeout: .seconds(10)) == 0)
        #expect(await router.wait(timeout: .seconds(10)) == 0)
    }

    /// Waits, bounded, for a line of the process's output that `matches`.
    static func waitFor(_ process: ExternalProcess, timeout: Duration, _ matches: (Substring) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if process.output.split(separator: "\n").contains(where: matches) { return true }
            guard process.process.isRunning, (try? await Task.sleep(for: .milliseconds(50))) != nil else { break }
        }
        return process.output.split(separator: "\n").contains(where: matches)
    }

    @Test func badTorrentFailsWithOneLine() async throws {
        let directory = try TemporaryDirectory()
        let bad = directory.url.appendingPathComponent("bad.torrent")
        try Data("d4:infoi3ee".utf8).write(to: bad)
        let result = try await ShoalBinary.run(["--headless", "--bind", "127.0.0.1", "--port", "0", "--download-dir", directory.url.path,
                                          "--state-dir", directory.url.path, bad.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("'info' must be a dictionary"), "\(result.stderr)")
    }
}

@Suite("config.toml")
struct ConfigFileTests {
    static let cases: [(String, String)] = [
        ("colour = \"red\"", "unknown setting 'colour'"),
        ("port = \"many\"", "'port' must be a whole number"),
        ("port = 70000", "'port' must be 0-65535"),
        ("watch = 3", "'watch' must be a list of strings"),
        ("watch_action = \"shred\"", "'watch_action' must be rename, delete or keep"),
        ("log_level = \"loud\"", "'log_level' must be one of trace, debug, info"),
        ("seed_ratio = 0", "'seed_ratio' must be a number above 0"),
        ("port = [", "line 1"),
    ]

    @Test("an invalid config names the problem and exits 2", arguments: cases)
    func invalidConfig(text: String, message: String) async throws {
        let directory = try TemporaryDirectory()
        let file = directory.url.appendingPathComponent("config.toml")
        try Data(text.utf8).write(to: file)
        let result = try await ShoalBinary.run(["--headless", "--config", file.path, "--state-dir", directory.url.path])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    /// Flags win over the file; the file wins over built-in defaults.
    @Test func flagsOverrideTheFile() async throws {
        let directory = try TemporaryDirectory()
        let file = directory.url.appendingPathComponent("config.toml")
        let downloads = directory.url.appendingPathComponent("from-config")
        try Data("download_dir = \"\(downloads.path)\"\nport = 0\nbind = \"127.0.0.1\"\n".utf8).write(to: file)
        let result = try await ShoalBinary.run(["--headless", "--config", file.path, "--state-dir", directory.url.path,
                                          "--exit-when-done", "--up-kib", "5"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("downloading to \(downloads.path)"), "\(result.stderr)")
    }
}

@Suite("shoal config --print")
struct ConfigPrintTests {
    /// The settings are declared once (`RunSettings`); the README's config example and its flag
    /// table must name every one of them, and no key that does not exist.
    @Test func readmeListsEverySetting() async throws {
        let printed = try await ShoalBinary.run(["config", "--print", "--config", "/nonexistent/shoal.toml"])
        // A named file that is missing is an error; the default path may be absent.
        let defaults = printed.status == 0 ? printed : try await ShoalBinary.run(["config", "--print"])
        #expect(defaults.status == 0, "\(defaults.stderr)")
        let keys = defaults.stdout.split(separator: "\n").filter { !$0.hasPrefix("# shoal") && !$0.hasPrefix("# file") }.compactMap { line in
            line.split(separator: " ").first { $0 != "#" }.map(String.init)
        }
        #expect(keys.count >= 20, "\(keys)")
        let readme = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../README.md").standardized, encoding: .utf8)
        let block = try #require(readme.components(separatedBy: "`config.toml` sets defaults for the same options").last?
            .components(separatedBy: "```toml").dropFirst().first?.components(separatedBy: "```").first)
        let documented = block.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }.filter { !$0.hasPrefix("#") }
        #expect(documented == keys, "the README's config.toml example lists the settings in order")
        let help = try await ShoalBinary.run(["run", "--help"]).stdout
        for key in keys {
            let flag = "--" + key.replacingOccurrences(of: "_", with: "-")
            #expect(help.contains(flag), "\(flag) is a flag")
            #expect(readme.contains("`\(flag)"), "the README's flag table has \(flag)")
        }
    }

    @Test func printsEverySettingWithItsSource() async throws {
        let directory = try TemporaryDirectory()
        let file = directory.url.appendingPathComponent("config.toml")
        try "port = 7000\nseed_ratio = 2.5\ndht_bootstrap = [\"127.0.0.1:6881\"]\n".write(to: file, atomically: true, encoding: .utf8)
        let result = try await ShoalBinary.run(["config", "--print", "--config", file.path])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        func line(_ key: String) -> String { lines.first { $0.hasPrefix(key + " ") || $0.hasPrefix("# \(key) ") } ?? "" }
        #expect(line("port").hasPrefix("port = 7000") && line("port").hasSuffix("# \(file.path)"))
        #expect(line("seed_ratio").hasPrefix("seed_ratio = 2.5"))
        #expect(line("bind").hasPrefix("bind = [\"0.0.0.0\", \"::\"]") && line("bind").hasSuffix("# default: every IPv4 and IPv6 address"))
        #expect(line("seed_minutes").hasPrefix("# seed_minutes is not set"))
        #expect(line("dht_bootstrap").hasPrefix("dht_bootstrap = [\"127.0.0.1:6881\"]"))
        let keys = ["download_dir", "port", "bind", "up_kib", "down_kib", "state_dir", "watch", "watch_action", "theme", "max_peers",
                    "max_peers_total", "seed_ratio", "seed_minutes", "dht", "dht_bootstrap", "pex", "min_announce_interval", "log_level",
                    "log_file"]
        for key in keys { #expect(!line(key).isEmpty, "\(key) is printed") }
        // The printed settings read back as the same configuration.
        let printed = directory.url.appendingPathComponent("printed.toml")
        try result.stdout.write(to: printed, atomically: true, encoding: .utf8)
        let again = try await ShoalBinary.run(["config", "--print", "--config", printed.path])
        #expect(again.status == 0, "\(again.stderr)")
        let bad = directory.url.appendingPathComponent("bad.toml")
        try "max_peers_total = 0\n".write(to: bad, atomically: true, encoding: .utf8)
        let refused = try await ShoalBinary.run(["config", "--print", "--config", bad.path])
        #expect(refused.status == 2 && refused.stderr.contains("'max_peers_total' must be at least 1"))
    }

    /// Above a thousand torrents a line for each every interval is no help: once they are all
    /// seeding and idle, an interval says one summary line, and a torrent changing state gets
    /// its line.
    @Test func aLargeSessionPrintsASummaryNotALinePerIdleTorrent() async throws {
        let directory = try TemporaryDirectory()
        let count = 1_001
        let data = directory.url.appendingPathComponent("data")
        let torrents = directory.url.appendingPathComponent("torrents")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: torrents, withIntermediateDirectories: true)
        let watch = directory.url.appendingPathComponent("watch")
        try FileManager.default.createDirectory(at: watch, withIntermediateDirectories: true)
        /// An item's data and its torrent, written into `folder`.
        func item(_ n: Int, torrentIn folder: URL) throws -> String {
            let name = String(format: "i%04d.bin", n)
            let content = Array("item \(n) of a large session".utf8)
            try Data(content).write(to: data.appendingPathComponent(name))
            // The SHA-1 of the one piece: what an info-hash of those bytes is.
            let piece = InfoHash(hashingInfo: content).bytes
            let info: BencodeValue = .dict(["name": .string(name), "length": .integer(Int64(content.count)), "piece length": .integer(16_384),
                                            "pieces": .bytes(piece)])
            let path = folder.appendingPathComponent(name + ".torrent")
            try Data(BencodeEncoder.encode(.dict(["info": info]))).write(to: path)
            return path.path
        }
        let paths = try (0..<count).map { try item($0, torrentIn: torrents) }
        let process = try ExternalProcess(ShoalBinary.url.path, ["--headless", "--bind", "127.0.0.1", "--port", "0", "--interval", "0.3",
                                                                "--download-dir", data.path, "--watch", watch.path, "--state-dir",
                                                                directory.url.appendingPathComponent("state").path] + paths,
                                          logName: "large-headless")
        #expect(await process.waitForOutput("\(count) torrents: \(count) seeding", timeout: .seconds(120)), "\(process.output.suffix(2000))")
        // Two more summaries: nothing between them but summary lines.
        let settled = process.output.count
        func summaries() -> Int { process.output.dropFirst(settled).split(separator: "\n").filter { $0.hasPrefix("\(count) torrents: ") }.count }
        #expect(await SwarmHarness.poll(timeout: .seconds(30)) { summaries() >= 3 })
        let after = process.output.dropFirst(settled).split(separator: "\n").dropFirst().dropLast()
        #expect(!after.isEmpty && after.allSatisfy { $0.hasPrefix("\(count) torrents: \(count) seeding  down ") }, "\(after.prefix(5))")
        let lines = process.output.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("i0500.bin  ") }.count <= 3, "a line for each state it went through, no more")
        #expect(lines.filter { $0.hasPrefix("completed: i0500.bin") }.count <= 1)
        // A torrent added now whose data is all there completes within one look: that is news.
        _ = try item(count, torrentIn: watch)
        #expect(await process.waitForOutput("completed: \(String(format: "i%04d.bin", count))", timeout: .seconds(30)),
                "\(process.output.suffix(1000))")
        process.process.terminate()
        #expect(await process.wait(timeout: .seconds(30)) == 0)
    }
}
