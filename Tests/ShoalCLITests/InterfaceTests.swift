import Foundation
import ShoalTestSupport
import Testing

/// The real binary in tmux against a loopback swarm (a Shoal seeder and `shoal tracker`): pause
/// and resume with p, add a torrent through the prompt, select it with a mouse click, stop and
/// restart its seeding with S, survive a resize, and quit with q (confirmed, torrents are active).
@Suite("Full-screen interface in tmux", .serialized)
struct InterfaceTests {
    @Test(.enabled(if: ExternalProcess.available("tmux")))
    func pauseResumeAddClickSeedResizeQuit() async throws {
        let tmux = ExternalProcess.which("tmux") ?? "/usr/bin/tmux"
        let directory = try TemporaryDirectory()
        let shoal = ShoalBinary.url.path
        let tracker = try await TrackerProcess.start(interval: 5)
        let content = try directory.write("seed/movie.bin", bytes: 12_000_000, seed: 3)
        let extra = try directory.write("seed/extra.bin", bytes: 50_000, seed: 4)
        let torrent = directory.url.appendingPathComponent("movie.torrent")
        let second = directory.url.appendingPathComponent("extra.torrent")
        #expect(try await ShoalBinary.run(["create", content.path, "-t", tracker.httpURL, "-o", torrent.path]).status == 0)
        #expect(try await ShoalBinary.run(["create", extra.path, "-t", tracker.httpURL, "-o", second.path]).status == 0)
        let seeder = try ExternalProcess(shoal, ["--headless", "--bind", "127.0.0.1", "--port", "0", "--up-kib", "200",
                                                 "--download-dir", content.deletingLastPathComponent().path,
                                                 "--state-dir", directory.url.appendingPathComponent("seed-state").path,
                                                 torrent.path, second.path],
                                         logName: "tui-seed")
        #expect(await seeder.waitForOutput("tracker: movie.bin: \(tracker.httpURL): working", timeout: .seconds(60)), "\(seeder.output)")
        #expect(await seeder.waitForOutput("tracker: extra.bin: \(tracker.httpURL): working", timeout: .seconds(60)), "\(seeder.output)")

        let name = "shoal-ui-\(UUID().uuidString.prefix(8))"
        let exitFile = directory.url.appendingPathComponent("exit")
        let command = "LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color '\(shoal)' --bind 127.0.0.1 --port 0 "
            + "--download-dir '\(directory.url.appendingPathComponent("leech").path)' "
            + "--state-dir '\(directory.url.appendingPathComponent("state").path)' '\(torrent.path)'; "
            + "echo $? > '\(exitFile.path)'"
        func run(_ arguments: [String]) async throws -> String {
            let call = try ExternalProcess(tmux, ["-L", name, "-f", "/dev/null"] + arguments, logName: "tmux")
            _ = await call.wait(timeout: .seconds(15))
            return call.output
        }
        func waitFor(_ timeout: Duration, _ condition: (String) -> Bool) async throws -> String {
            let deadline = ContinuousClock.now + timeout
            var last = ""
            while ContinuousClock.now < deadline {
                last = try await run(["capture-pane", "-p", "-t", name])
                if condition(last) { return last }
                try await Task.sleep(for: .milliseconds(200))
            }
            return last
        }
        _ = try await run(["new-session", "-d", "-s", name, "-x", "150", "-y", "40", command])

        let downloading = try await waitFor(.seconds(60)) { $0.contains("movie.bin") && $0.contains("downloading") }
        #expect(downloading.contains("downloading"), "\(downloading)")
        _ = try await run(["send-keys", "-t", name, "p"])
        let paused = try await waitFor(.seconds(20)) { $0.contains("paused") }
        #expect(paused.contains("paused"), "\(paused)")
        _ = try await run(["send-keys", "-t", name, "p"])
        let resumed = try await waitFor(.seconds(30)) { !$0.contains(" paused ") && ($0.contains("downloading") || $0.contains("seeding")) }
        #expect(!resumed.contains(" paused "), "\(resumed)")

        _ = try await run(["send-keys", "-t", name, "a"])
        _ = try await run(["send-keys", "-t", name, "-l", second.path])
        _ = try await run(["send-keys", "-t", name, "Enter"])
        func line(_ screen: String, _ name: String) -> String { screen.split(separator: "\n").first { $0.contains(name) }.map(String.init) ?? "" }
        let added = try await waitFor(.seconds(60)) { line($0, "extra.bin").contains("seeding") }
        #expect(line(added, "extra.bin").contains("seeding"), "\(added)")

        // A left click (SGR mouse report, 1-based) on the second row of the list selects it.
        _ = try await run(["send-keys", "-t", name, "-l", "\u{1B}[<0;6;4M"])
        _ = try await run(["send-keys", "-t", name, "S"])
        let stopped = try await waitFor(.seconds(20)) { line($0, "extra.bin").contains("finished") }
        #expect(line(stopped, "extra.bin").contains("finished"), "\(stopped)")
        #expect(!line(stopped, "movie.bin").contains("finished"), "S applies to the clicked torrent only")
        _ = try await run(["send-keys", "-t", name, "S"])
        let seeding = try await waitFor(.seconds(20)) { line($0, "extra.bin").contains("seeding") }
        #expect(line(seeding, "extra.bin").contains("seeding"), "\(seeding)")

        _ = try await run(["resize-window", "-t", name, "-x", "90", "-y", "24"])
        let resized = try await waitFor(.seconds(20)) { screen in
            screen.contains("Shoal") && screen.contains("extra.bin") && screen.split(separator: "\n").allSatisfy { $0.count <= 90 }
        }
        #expect(resized.contains("extra.bin"), "\(resized)")

        _ = try await run(["send-keys", "-t", name, "q"])
        let asked = try await waitFor(.seconds(20)) { $0.contains("Quit?") }
        #expect(asked.contains("torrent"), "the movie is still downloading: quitting asks first; \(asked)")
        _ = try await run(["send-keys", "-t", name, "y"])
        let deadline = ContinuousClock.now + .seconds(30)
        while !FileManager.default.fileExists(atPath: exitFile.path) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        let status = (try? String(contentsOf: exitFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(status == "0")
        _ = try? await run(["kill-server"])
        await seeder.stop()
        _ = await tracker.interrupt()
    }
}
