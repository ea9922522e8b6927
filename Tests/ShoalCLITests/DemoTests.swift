import Foundation
import ShoalTestSupport
import Testing

@Suite("shoal demo", .serialized)
struct DemoTests {
    @Test func headlessDemoFinishesWithEveryLeecherVerified() async throws {
        let demo = try ExternalProcess(ShoalBinary.url.path, ["demo", "--headless", "--peers", "4", "--size", "4", "--timeout", "120"],
                                       logName: "demo")
        let status = await demo.wait(timeout: .seconds(150))
        #expect(status == 0, "\(demo.output)")
        #expect(demo.output.contains("demo complete: 3 leechers verified every piece"))
    }

    /// Drives the real binary in tmux: the list, the piece map, at least 3 peers, then q.
    @Test(.enabled(if: ExternalProcess.available("tmux")))
    func interfaceShowsTheSwarmAndQuitsCleanly() async throws {
        let tmux = try #require(ExternalProcess.which("tmux") ?? (ProcessInfo.processInfo.environment["CI"] != nil ? "/usr/bin/tmux" : nil))
        let directory = try TemporaryDirectory()
        let exitFile = directory.url.appendingPathComponent("exit")
        let name = "shoal-test-\(UUID().uuidString.prefix(8))"
        let command = "LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color '\(ShoalBinary.url.path)' demo --peers 5 --size 64; echo $? > '\(exitFile.path)'"
        // 64 MiB keeps the swarm busy for about a minute and a half, however slowly a loaded
        // machine gets through the steps below (the test quits before the end).
        // A tmux server of our own (-L), its output in a file: nothing inherits our pipes, and
        // every call is bounded in time.
        func run(_ arguments: [String]) async throws -> String {
            let call = try ExternalProcess(tmux, ["-L", name, "-f", "/dev/null"] + arguments, logName: "tmux")
            _ = await call.wait(timeout: .seconds(15))
            return call.output
        }
        _ = try await run(["new-session", "-d", "-s", name, "-x", "160", "-y", "45", command])
        func screen() async throws -> String { try await run(["capture-pane", "-p", "-t", name]) }
        func waitFor(_ timeout: Duration, _ condition: (String) -> Bool) async throws -> String {
            let deadline = ContinuousClock.now + timeout
            var last = ""
            while ContinuousClock.now < deadline {
                last = try await screen()
                if condition(last) { return last }
                try await Task.sleep(for: .milliseconds(200))
            }
            return last
        }
        let list = try await waitFor(.seconds(60)) { $0.contains("Shoal Demo Album") && $0.contains("downloading") }
        #expect(list.contains("Shoal Demo Album"), "\(list)")
        _ = try await run(["send-keys", "-t", name, "Enter"])
        let pieces = try await waitFor(.seconds(60)) { $0.contains("distributed copies") && $0.contains("█") }
        #expect(pieces.contains("have "), "\(pieces)")
        _ = try await run(["send-keys", "-t", name, "2"])
        let peers = try await waitFor(.seconds(30)) { $0.components(separatedBy: "127.0.0.1:").count - 1 >= 3 }
        #expect(peers.components(separatedBy: "127.0.0.1:").count - 1 >= 3, "\(peers)")
        _ = try await run(["send-keys", "-t", name, "q"])
        // The swarm is still busy, so quitting asks first.
        let asked = try await waitFor(.seconds(20)) { $0.contains("Quit?") }
        #expect(asked.contains("Quit?"), "\(asked)")
        _ = try await run(["send-keys", "-t", name, "y"])
        let deadline = ContinuousClock.now + .seconds(30)
        while !FileManager.default.fileExists(atPath: exitFile.path) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        let status = (try? String(contentsOf: exitFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        let finalScreen = (try? await screen()) ?? ""
        #expect(status == "0", "the demo should exit 0 after q; screen: \(finalScreen)")
        _ = try? await run(["kill-server"])
    }
}
