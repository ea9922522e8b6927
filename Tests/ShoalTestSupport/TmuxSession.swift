import Foundation

/// A full-screen program under test in its own tmux server (`-L`), read through `capture-pane`.
/// The server is killed when the value is stopped.
public struct TmuxSession: Sendable {
    public let name: String
    let tmux: String

    /// Starts `command` (a shell line) in a detached session of the given size.
    public static func start(_ command: String, width: Int = 150, height: Int = 40) async throws -> TmuxSession {
        let session = TmuxSession(name: "shoal-\(UUID().uuidString.prefix(8))", tmux: ExternalProcess.which("tmux") ?? "/usr/bin/tmux")
        _ = try await session.run(["new-session", "-d", "-s", session.name, "-x", String(width), "-y", String(height), command])
        return session
    }

    @discardableResult
    public func run(_ arguments: [String]) async throws -> String {
        let call = try ExternalProcess(tmux, ["-L", name, "-f", "/dev/null"] + arguments, logName: "tmux")
        _ = await call.wait(timeout: .seconds(15))
        return call.output
    }

    public func capture() async throws -> String { try await run(["capture-pane", "-p", "-t", name]) }

    /// Sends tmux key names (`Enter`, `M-2`, `q`).
    public func keys(_ keys: String...) async throws { try await run(["send-keys", "-t", name] + keys) }

    /// Sends text literally.
    public func type(_ text: String) async throws { try await run(["send-keys", "-t", name, "-l", text]) }

    /// The screen once `condition` holds, or the last one seen when `timeout` ran out.
    public func waitFor(_ timeout: Duration, _ condition: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            last = try await capture()
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(200))
        }
        return last
    }

    /// Ends the program in the pane (SIGTERM by its PID, SIGKILL if it is still there after 3 s:
    /// stig ignores SIGTERM), then the server. `kill-server` alone left the server and a
    /// still-running interface behind (tmux 3.3a), run after run.
    public func stop() async {
        let panes = (try? await run(["list-panes", "-a", "-F", "#{pane_pid}"])) ?? ""
        let pids = panes.split(separator: "\n").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 1 }
        for pid in pids { kill(pid, SIGTERM) }
        let deadline = ContinuousClock.now + .seconds(3)
        while pids.contains(where: { kill($0, 0) == 0 }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for pid in pids where kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        _ = try? await run(["kill-server"])
    }

    /// The screen's line holding `text`, or "".
    public static func line(_ screen: String, _ text: String) -> String {
        screen.split(separator: "\n").first { $0.contains(text) }.map(String.init) ?? ""
    }
}
