import Foundation
import ShoalTestSupport
import Testing

/// The real binary in tmux against a loopback seeder: pause and resume with p, add a torrent
/// through the prompt, survive a resize, quit with q.
@Suite("Full-screen interface in tmux", .serialized)
struct InterfaceTests {
    @Test(.enabled(if: ExternalProcess.available("tmux")))
    func pauseResumeAddResizeQuit() async throws {
        let tmux = ExternalProcess.which("tmux") ?? "/usr/bin/tmux"
        let directory = try TemporaryDirectory()
        let shoal = ShoalBinary.url.path
        let content = try directory.write("seed/movie.bin", bytes: 12_000_000, seed: 3)
        let extra = try directory.write("other/extra.bin", bytes: 50_000, seed: 4)
        let torrent = directory.url.appendingPathComponent("movie.torrent")
        let second = directory.url.appendingPathComponent("extra.torrent")
        #expect(try ShoalBinary.run(["create", content.path, "-o", torrent.path]).status == 0)
        #expect(try ShoalBinary.run(["create", extra.path, "-o", second.path]).status == 0)
        let seedPort = ExternalProcess.freePort()
        let seeder = try ExternalProcess(shoal, ["--headless", "--bind", "127.0.0.1", "--port", String(seedPort), "--up-kib", "200",
                                                 "--download-dir", content.deletingLastPathComponent().path,
                                                 "--state-dir", directory.url.appendingPathComponent("seed-state").path, torrent.path],
                                         logName: "tui-seed")
        #expect(await seeder.waitForOutput("completed:", timeout: .seconds(60)))

        let name = "shoal-ui-\(UUID().uuidString.prefix(8))"
        let exitFile = directory.url.appendingPathComponent("exit")
        let command = "LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color '\(shoal)' --bind 127.0.0.1 --port 0 "
            + "--download-dir '\(directory.url.appendingPathComponent("leech").path)' "
            + "--state-dir '\(directory.url.appendingPathComponent("state").path)' --peer 127.0.0.1:\(seedPort) '\(torrent.path)'; "
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
        let added = try await waitFor(.seconds(20)) { $0.contains("extra.bin") }
        #expect(added.contains("extra.bin"), "\(added)")

        _ = try await run(["resize-window", "-t", name, "-x", "90", "-y", "24"])
        let resized = try await waitFor(.seconds(20)) { screen in
            screen.contains("Shoal") && screen.contains("extra.bin") && screen.split(separator: "\n").allSatisfy { $0.count <= 90 }
        }
        #expect(resized.contains("extra.bin"), "\(resized)")

        _ = try await run(["send-keys", "-t", name, "q"])
        let deadline = ContinuousClock.now + .seconds(30)
        while !FileManager.default.fileExists(atPath: exitFile.path) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        let status = (try? String(contentsOf: exitFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(status == "0")
        _ = try? await run(["kill-server"])
        seeder.stop()
    }
}
