import Foundation
import ShoalCore
import ShoalEngine
import ShoalTerminal
import ShoalTUI
import Synchronization

/// Runs the full-screen interface on a session until the user quits.
///
/// ncurses is not thread-safe, so one dedicated thread owns the terminal: it draws the latest
/// snapshot and polls keys with a short timeout. Async tasks fetch snapshots and carry the user's
/// commands to the session; only `Sendable` values cross between the two sides.
enum TUIApp {
    static func run(session: Session, theme: Theme, downloadDirectory: String) async throws(Terminal.Unavailable) {
        let shared = Exchange(await session.snapshot())
        let (commands, commandSink) = AsyncStream.makeStream(of: UICommand.self)

        let result: Result<Void, Terminal.Unavailable> = await withTaskGroup(of: Result<Void, Terminal.Unavailable>?.self) { group in
            group.addTask {
                // Snapshots a few times a second, and the free space in the download directory.
                while !Task.isCancelled {
                    let snapshot = await session.snapshot()
                    let reports = await session.takeErrors()
                    shared.latest.withLock { $0 = snapshot }
                    shared.version.add(1, ordering: .relaxed)
                    if !reports.isEmpty { shared.notices.withLock { $0.append(contentsOf: reports.reversed()) } }
                    shared.freeDisk.withLock { $0 = Self.freeBytes(downloadDirectory) }
                    try? await Task.sleep(for: .milliseconds(500))
                }
                return nil
            }
            group.addTask {
                // Ctrl-C or SIGTERM: leave the screen as a quit key would, restoring the terminal.
                for await _ in SignalStream.termination() {
                    shared.quitRequested.store(true, ordering: .relaxed)
                    return nil
                }
                return nil
            }
            group.addTask {
                for await command in commands {
                    if let notice = await Self.perform(command, on: session) { shared.notices.withLock { $0.append(notice) } }
                }
                return nil
            }
            group.addTask {
                await withCheckedContinuation { continuation in
                    let thread = Thread {
                        continuation.resume(returning: Self.uiLoop(theme: theme, shared: shared, commands: commandSink))
                    }
                    thread.name = "shoal-terminal"
                    thread.start()
                }
            }
            var outcome: Result<Void, Terminal.Unavailable> = .success(())
            for await finished in group {
                if let finished {
                    outcome = finished
                    commandSink.finish()
                    group.cancelAll()
                }
            }
            return outcome
        }
        try result.get()
    }

    /// The terminal thread: draw, read a key, turn it into commands; until quit.
    private static func uiLoop(theme: Theme, shared: Exchange, commands: AsyncStream<UICommand>.Continuation)
        -> Result<Void, Terminal.Unavailable>
    {
        let terminal: Terminal
        do {
            terminal = try Terminal(theme: theme)
        } catch {
            return .failure(error)
        }
        defer { terminal.stop() }
        var state = UIState()
        var screen = Screen(glyphs: terminal.unicode ? .unicode : .ascii)
        // A frame is drawn when something changed: a new snapshot, a notice, a key or a resize.
        // Idle, that is twice a second, the snapshots' pace.
        var drawnVersion = -1
        var dirty = true
        while !shared.quitRequested.load(ordering: .relaxed) {
            let version = shared.version.load(ordering: .relaxed)
            let snapshot = shared.latest.withLock { $0 }
            if version != drawnVersion {
                state.observe(snapshot, now: .now)
                dirty = true
            }
            if let notice = shared.notices.withLock({ $0.popLast() }) {
                state.message = notice
                dirty = true
            }
            if dirty {
                screen.freeDiskBytes = shared.freeDisk.withLock { $0 }
                state.layout = ScreenLayout(width: terminal.width, height: terminal.height)
                terminal.draw(screen.render(snapshot, state: state, width: terminal.width, height: terminal.height))
                drawnVersion = version
                dirty = false
            }
            guard let key = terminal.readKey(timeout: 100) else { continue }
            dirty = true
            if key == .resize { continue }
            for command in state.handle(key, snapshot: snapshot, pageSize: Screen.bodyHeight(terminal.height)) {
                if command == .quit { return .success(()) }
                commands.yield(command)
            }
        }
        return .success(())
    }

    /// Carries out one command; returns a line to show the user.
    private static func perform(_ command: UICommand, on session: Session) async -> String? {
        do {
            switch command {
            case .add(let path):
                let expanded = path.lowercased().hasPrefix("magnet:") ? path : (path as NSString).expandingTildeInPath
                let source = try TorrentSource.load(expanded)
                try await session.add(source)
                return "added \(source.name)"
            case .pause(let id): try await session.pause(id)
            case .resume(let id): try await session.resume(id)
            case .setSeeding(let id, let seed): try await session.setSeeding(id, seed)
            case .remove(let id, let deleteData): try await session.remove(id, deleteData: deleteData)
            case .setFilePriorities(let id, let priorities): try await session.setFilePriorities(id, priorities)
            case .verify(let id): try await session.verify(id)
            case .reannounce(let id): try await session.reannounce(id)
            case .setGlobalLimits(let up, let down):
                let snapshot = await session.snapshot()
                await session.setGlobalLimits(upload: up.map { $0 * 1024 } ?? snapshot.uploadLimit,
                                              download: down.map { $0 * 1024 } ?? snapshot.downloadLimit)
            case .quit: break
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// What the async side hands the terminal thread.
    final class Exchange: Sendable {
        let latest: Mutex<SessionSnapshot>
        let freeDisk = Mutex<Int64?>(nil)
        let notices = Mutex<[String]>([])
        let quitRequested = Atomic<Bool>(false)
        /// Counts snapshots, so the terminal thread redraws only when a new one came.
        let version = Atomic<Int>(0)
        init(_ snapshot: SessionSnapshot) { latest = Mutex(snapshot) }
    }

    static func freeBytes(_ directory: String) -> Int64? {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
