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
    /// `preferences`: where the list's sort and view are kept between runs (none: not kept).
    static func run(session: Session, theme: Theme, downloadDirectory: String, preferences: String? = nil) async throws(Terminal.Unavailable) {
        try await run(backend: LocalBackend(session: session, downloadDirectory: downloadDirectory), theme: theme, preferences: preferences)
    }

    static func run(backend: some InterfaceBackend, theme: Theme, preferences: String? = nil) async throws(Terminal.Unavailable) {
        let first = try? await backend.refresh(selected: nil)
        let shared = Exchange(first ?? .empty)
        if first == nil { shared.banner.withLock { $0 = "connecting to \(backend.title ?? "the daemon")…" } }
        let (commands, commandSink) = AsyncStream.makeStream(of: UICommand.self)

        let result: Result<Void, Terminal.Unavailable> = await withTaskGroup(of: Result<Void, Terminal.Unavailable>?.self) { group in
            group.addTask {
                // Snapshots a few times a second, and the free space in the download directory.
                // A daemon that cannot be reached is retried every second, under a banner.
                while !Task.isCancelled {
                    do {
                        let ticket = shared.takeTicket()
                        shared.publish(try await backend.refresh(selected: shared.selected.withLock { $0 }), ticket: ticket)
                        let wasLost = shared.banner.withLock { banner in
                            defer { banner = nil }
                            return banner != nil
                        }
                        if wasLost { shared.notices.withLock { $0.append("connected to \(backend.title ?? "the daemon")") } }
                    } catch {
                        shared.banner.withLock { $0 = "\(error) — retrying" }
                    }
                    shared.version.add(1, ordering: .relaxed)
                    let lines = await backend.newLogLines()
                    if !lines.isEmpty { shared.log.withLock { $0.append(contentsOf: lines) } }
                    let reports = await backend.notices()
                    if !reports.isEmpty { shared.notices.withLock { $0.append(contentsOf: reports.reversed()) } }
                    let free = await backend.freeDiskBytes()
                    shared.freeDisk.withLock { $0 = free }
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
                    if let notice = await backend.perform(command) { shared.notices.withLock { $0.append(notice) } }
                    // What the command changed shows now, not at the next half-second refresh.
                    let ticket = shared.takeTicket()
                    if let snapshot = try? await backend.refresh(selected: shared.selected.withLock { $0 }) {
                        shared.publish(snapshot, ticket: ticket)
                    }
                }
                return nil
            }
            group.addTask {
                await withCheckedContinuation { continuation in
                    let thread = Thread {
                        continuation.resume(returning: Self.uiLoop(theme: theme, shared: shared, commands: commandSink,
                                                                   title: backend.title, detaches: backend.detaches,
                                                                   preferences: preferences))
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
    private static func uiLoop(theme: Theme, shared: Exchange, commands: AsyncStream<UICommand>.Continuation, title: String?,
                               detaches: Bool, preferences path: String?) -> Result<Void, Terminal.Unavailable>
    {
        let terminal: Terminal
        do {
            terminal = try Terminal(theme: theme)
        } catch {
            return .failure(error)
        }
        defer { terminal.stop() }
        var state = UIState()
        state.detaches = detaches
        if let path { state.preferences = InterfacePreferences.load(path) }
        var saved = state.preferences
        state.theme = theme.name
        state.themes = Theme.availableNames()
        if !state.themes.contains(theme.name) { state.themes.insert(theme.name, at: 0) }
        var drawnTheme = theme.name
        var screen = Screen(glyphs: terminal.unicode ? .unicode : .ascii)
        screen.attachedTo = title
        // A frame is drawn when something changed: a new snapshot, a notice, a key or a resize.
        // Idle, that is twice a second, the snapshots' pace.
        var drawnVersion = -1
        var quickLooks = 0
        var detailed: InfoHash?
        var dirty = true
        while !shared.quitRequested.load(ordering: .relaxed) {
            let version = shared.version.load(ordering: .relaxed)
            let snapshot = shared.latest.withLock { $0.snapshot }
            if version != drawnVersion {
                state.observe(snapshot, now: .now)
                dirty = true
            }
            let lines = shared.log.withLock { lines in
                defer { lines.removeAll() }
                return lines
            }
            if !lines.isEmpty {
                state.receiveLog(lines)
                if state.showLog { dirty = true }
            }
            if let notice = shared.notices.withLock({ $0.popLast() }) {
                state.message = notice
                dirty = true
            }
            let banner = shared.banner.withLock { $0 }
            if banner != screen.banner {
                screen.banner = banner
                dirty = true
            }
            if dirty {
                screen.freeDiskBytes = shared.freeDisk.withLock { $0 }
                state.layout = ScreenLayout(width: terminal.width, height: terminal.height)
                terminal.draw(screen.render(snapshot, state: state, width: terminal.width, height: terminal.height))
                drawnVersion = version
                dirty = false
            }
            // Just after a command its answer is awaited: look again every 10 ms for a while, so
            // the change shows as soon as the new snapshot is in (not at the next 100 ms key wait).
            let wait: Int32 = quickLooks > 0 ? 10 : 100
            quickLooks = max(0, quickLooks - 1)
            guard let key = terminal.readKey(timeout: wait) else { continue }
            dirty = true
            if key == .resize { continue }
            for command in state.handle(key, snapshot: snapshot, pageSize: Screen.bodyHeight(terminal.height)) {
                if command == .quit { return .success(()) }
                commands.yield(command)
                quickLooks = 30
            }
            if state.theme != drawnTheme {
                drawnTheme = state.theme
                do {
                    terminal.use(try Theme.load(state.theme))
                } catch {
                    state.message = error.description
                }
            }
            if let path, state.preferences != saved {
                saved = state.preferences
                if let problem = saved.save(path) { state.message = problem }
            }
            // The async side asks the daemon for this torrent's pieces, peers and files.
            let selected = state.inDetail ? state.selected(snapshot)?.id : nil
            shared.selected.withLock { $0 = selected }
            if selected != detailed {
                detailed = selected
                // Its pieces and files now, not at the next half-second refresh.
                if selected != nil {
                    commands.yield(.refresh)
                    quickLooks = 30
                }
            }
        }
        return .success(())
    }

    /// What the async side hands the terminal thread.
    final class Exchange: Sendable {
        /// The newest snapshot, and the ticket of the refresh that fetched it.
        let latest: Mutex<(snapshot: SessionSnapshot, ticket: Int)>
        private let tickets = Atomic<Int>(0)
        let freeDisk = Mutex<Int64?>(nil)
        let notices = Mutex<[String]>([])
        /// Log lines not yet taken by the terminal thread.
        let log = Mutex<[String]>([])
        let quitRequested = Atomic<Bool>(false)
        /// Shown in place of the status bar while the daemon cannot be reached.
        let banner = Mutex<String?>(nil)
        /// The torrent whose details are open, for a remote backend to fetch them.
        let selected = Mutex<InfoHash?>(nil)
        /// Counts snapshots, so the terminal thread redraws only when a new one came.
        let version = Atomic<Int>(0)
        init(_ snapshot: SessionSnapshot) { latest = Mutex((snapshot, 0)) }

        /// Taken before a refresh starts: of two refreshes that overlap (the periodic one and the
        /// one after a command), the one that started later wins, whichever finishes first.
        func takeTicket() -> Int { tickets.add(1, ordering: .relaxed).newValue }

        func publish(_ snapshot: SessionSnapshot, ticket: Int) {
            let taken = latest.withLock { latest in
                guard ticket > latest.ticket else { return false }
                latest = (snapshot, ticket)
                return true
            }
            if taken { version.add(1, ordering: .relaxed) }
        }
    }
}
