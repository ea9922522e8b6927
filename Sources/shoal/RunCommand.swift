import ArgumentParser
import Foundation
import Logging
import ShoalCore
import ShoalEngine
import ShoalTerminal
import ShoalTUI

/// `shoal [OPTIONS] TORRENT...`: download and seed. `--headless` prints progress lines instead of
/// drawing the full-screen interface.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Download and seed torrents (the default command).",
        discussion: """
            With --headless Shoal prints a progress line per torrent every second and keeps seeding until SIGINT or SIGTERM.
            Torrents, their state and resume data are kept in the state directory and come back on the next start.
            Defaults for these options can be set in $XDG_CONFIG_HOME/shoal/config.toml; flags win.
            """
    )

    @Argument(help: "Torrent files to add.")
    var torrents: [String] = []

    @Flag(help: "Run without the full-screen interface.")
    var headless = false

    @Option(help: "Where downloads go (default: the current directory).")
    var downloadDir: String?

    @Option(help: "Port to listen on for peers (default 6881); the next free one is used if it is taken.")
    var port: Int?

    @Option(help: "Address to listen on (default 0.0.0.0).")
    var bind: String?

    @Option(help: "Upload limit in KiB/s (0 = unlimited).")
    var upKib: Int?

    @Option(help: "Download limit in KiB/s (0 = unlimited).")
    var downKib: Int?

    @Option(help: "A directory to watch for .torrent files to add (repeatable).")
    var watch: [String] = []

    @Option(help: "What to do with a watched file once added: rename (to NAME.torrent.added), delete or keep.")
    var watchAction: String?

    @Option(help: "Configuration file (default: $XDG_CONFIG_HOME/shoal/config.toml).")
    var config: String?

    @Option(help: "Directory for this instance's state (default: $XDG_DATA_HOME/shoal).")
    var stateDir: String?

    @Flag(help: "Exit (status 0) once every torrent is complete and verified.")
    var exitWhenDone = false

    @Option(name: .customLong("peer"), help: "A peer to dial directly, as HOST:PORT (repeatable).")
    var peers: [String] = []

    @Flag(inversion: .prefixedNo, help: "Run a Mainline DHT node (BEP 5) on the peer port (UDP), for trackerless torrents and magnets (default off).")
    var dht: Bool?

    @Option(name: .customLong("dht-bootstrap"),
            help: "A DHT node to join through, as HOST:PORT (repeatable), e.g. router.bittorrent.com:6881; implies --dht.")
    var dhtBootstrap: [String] = []

    @Flag(inversion: .prefixedNo, help: "Peer exchange (BEP 11) for public torrents (default on).")
    var pex: Bool?

    @Option(help: "Connections per torrent (default 50).")
    var maxPeers: Int?

    @Option(help: "Connections across all torrents (default 500).")
    var maxPeersTotal: Int?

    @Option(help: "Stop seeding a torrent once it has uploaded this many times its size (e.g. 2.0).")
    var seedRatio: Double?

    @Option(help: "Stop seeding a torrent this many minutes after it completed.")
    var seedMinutes: Int?

    @Flag(help: "Super-seed (BEP 16) torrents that are complete when they start: show each peer one piece at a time.")
    var superSeed = false

    @Option(help: "Shortest wait between two announces to a tracker, in seconds, whatever it asks (default 30); a tracker's longer interval or min interval wins.")
    var minAnnounceInterval: Int?

    @Option(help: "What the log keeps: trace, debug, info (default), notice, warning, error or critical. With --headless, debug and trace also go to stderr.")
    var logLevel: String?

    @Option(help: "Log file, rotated at 10 MiB (default: STATE_DIR/shoal.log with --state-dir, else $XDG_STATE_HOME/shoal/shoal.log; '' for none).")
    var logFile: String?

    @Option(help: "Seconds between progress lines in headless mode.")
    var interval: Double = 1

    @Option(help: "Colour theme: a name (default, light, mono, or a file in $XDG_CONFIG_HOME/shoal/themes or ./Themes) or a path.")
    var theme: String?

    func validate() throws {
        if let port { guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") } }
        guard (upKib ?? 0) >= 0, (downKib ?? 0) >= 0 else { throw ValidationError("limits must be 0 or more") }
        if let watchAction, WatchFolder.AfterAdding(rawValue: watchAction) == nil {
            throw ValidationError("--watch-action must be rename, delete or keep")
        }
        guard interval > 0 else { throw ValidationError("--interval must be positive") }
        for peer in peers where PeerAddress(parsing: peer) == nil {
            throw ValidationError("--peer \(peer): expected HOST:PORT")
        }
        for value in [maxPeers, maxPeersTotal, seedMinutes, minAnnounceInterval].compactMap({ $0 }) where value < 1 {
            throw ValidationError("--max-peers, --max-peers-total, --seed-minutes and --min-announce-interval must be at least 1 (got \(value))")
        }
        if let seedRatio, seedRatio <= 0 { throw ValidationError("--seed-ratio must be above 0") }
        if let logLevel, LogSetup.level(logLevel) == nil {
            throw ValidationError("--log-level must be one of \(LogSetup.levels.joined(separator: ", "))")
        }
        for node in dhtBootstrap where Self.nodeAddress(node) == nil {
            throw ValidationError("--dht-bootstrap \(node): expected HOST:PORT")
        }
    }

    func run() async throws {
        MallocSettings.apply()
        // Before anything opens a descriptor: the soft limit up to the hard one, and the budget
        // split between files and sockets from there.
        let budget = DescriptorBudget.shared
        // A file-size limit (RLIMIT_FSIZE) must fail the write (EFBIG, reported on the torrent),
        // not kill the process with SIGXFSZ.
        signal(SIGXFSZ, SIG_IGN)
        let file: ConfigFile
        do {
            file = try ConfigFile.load(config)
        } catch {
            _ = fail(error.description)
            throw ExitCode(2)  // a bad configuration is a usage error
        }
        let port = self.port ?? file.port ?? 6881
        let bind = self.bind ?? file.bind ?? "0.0.0.0"
        let upKib = self.upKib ?? file.upKib ?? 0
        let downKib = self.downKib ?? file.downKib ?? 0
        // Paths are made absolute now: saved in the session, a relative one would mean another
        // directory on the next start from elsewhere. Flags are relative to the working
        // directory; the config file's paths were resolved against its own directory.
        let downloadDir = self.downloadDir.map(AbsolutePath.resolve) ?? file.downloadDir
        let stateDir = self.stateDir.map(AbsolutePath.resolve) ?? file.stateDir
        let watchDirectories = watch.isEmpty ? file.watch : watch.map(AbsolutePath.resolve)
        guard let afterAdding = WatchFolder.AfterAdding(rawValue: watchAction ?? file.watchAction ?? "rename") else {
            _ = fail("configuration: watch_action must be rename, delete or keep")
            throw ExitCode(2)
        }
        guard (0...65535).contains(port), upKib >= 0, downKib >= 0 else {
            _ = fail("configuration: port must be 0-65535 and up_kib/down_kib 0 or more")
            throw ExitCode(2)
        }
        var chosenTheme = Theme.builtIn
        if !headless {
            do {
                chosenTheme = try Theme.load(theme ?? file.theme ?? "default")
            } catch {
                throw fail(error.description)
            }
        }
        var sources: [TorrentSource] = []
        for argument in torrents {
            do {
                sources.append(try TorrentSource.load(argument))
            } catch {
                throw fail(error.description)
            }
        }
        let downloadDirectory = downloadDir ?? FileManager.default.currentDirectoryPath
        let state = stateDir ?? Self.defaultStateDirectory()
        do {
            try FileManager.default.createDirectory(atPath: downloadDirectory, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        } catch {
            throw fail("cannot create \(downloadDirectory) or \(state): \(error.localizedDescription)")
        }
        var config = EngineConfig(downloadDirectory: downloadDirectory, listenPort: UInt16(port), bindAddress: bind,
                                  uploadLimit: upKib * 1024, downloadLimit: downKib * 1024)
        config.stateDirectory = state
        guard let level = LogSetup.level(logLevel ?? file.logLevel ?? "info") else {
            _ = fail("configuration: log_level must be one of \(LogSetup.levels.joined(separator: ", "))")
            throw ExitCode(2)
        }
        let logPath = logFile.map { $0.isEmpty ? $0 : AbsolutePath.resolve($0) } ?? file.logFile
            ?? LogSetup.defaultFile(stateDirectory: stateDir)
        do {
            config.logger = try LogSetup.logger(level: level, file: logPath, headless: headless)
        } catch {
            throw fail(error.description)
        }
        config.logger.info("starting", metadata: ["version": "\(ShoalVersion.string)", "port": "\(port)", "download_dir": "\(downloadDirectory)"])
        let bootstrapNodes = dhtBootstrap.isEmpty ? file.dhtBootstrap : dhtBootstrap
        var resolved: [PeerAddress] = []
        for node in bootstrapNodes {
            guard let address = Self.nodeAddress(node) else {
                _ = fail("configuration: dht_bootstrap: cannot resolve \(node)")
                throw ExitCode(2)
            }
            resolved.append(address)
        }
        config.dhtEnabled = dht ?? file.dht ?? !dhtBootstrap.isEmpty
        config.dhtBootstrap = resolved
        config.pexEnabled = pex ?? file.pex ?? true
        config.superSeeding = superSeed || (file.superSeed ?? false)
        config.maxPeersPerTorrent = maxPeers ?? file.maxPeers ?? 50
        config.maxPeersTotal = maxPeersTotal ?? file.maxPeersTotal ?? 500
        if config.maxPeersTotal > budget.sockets {
            warn("--max-peers-total \(config.maxPeersTotal) is more than \(budget.sockets) connections the descriptor limit allows (ulimit -n \(budget.limit)); using \(budget.sockets)")
            config.maxPeersTotal = budget.sockets
        }
        config.seedRatioLimit = seedRatio ?? file.seedRatio
        config.seedTimeLimit = (seedMinutes ?? file.seedMinutes).map { .seconds($0 * 60) }
        config.minimumAnnounceInterval = .seconds(minAnnounceInterval ?? file.minAnnounceInterval ?? 30)
        // Limits set in the interface last run come back, unless this run's flags set them.
        config.restoresGlobalLimits = self.upKib == nil && self.downKib == nil
        let session: Session
        do {
            session = try await Session.start(config)
        } catch {
            throw fail("\(error)")
        }
        for problem in await session.restore() { warn(problem) }
        let addresses = peers.compactMap(PeerAddress.init(parsing:))
        for source in sources {
            do {
                try await session.add(source)
            } catch Session.SessionError.duplicate {
                // Already there from the last run: nothing to do.
            } catch {
                warn("\(source.name): \(error)")
            }
            if !addresses.isEmpty { await session.addPeers(source.infoHash, addresses) }
        }
        let folders = watchDirectories.map { WatchFolder(directory: $0, afterAdding: afterAdding) }
        // Watch folders run beside the session for as long as it does, in the same task group.
        let watching: @Sendable () async -> Void = {
            await withDiscardingTaskGroup { group in
                for folder in folders {
                    group.addTask {
                        await folder.run(session: session) { event in
                            await session.report(event.problem.map { "watch: \(event.file): \($0)" } ?? "watch: added \(event.file)",
                                                 level: event.problem == nil ? .info : .warning)
                        }
                    }
                }
            }
        }
        if !headless {
            try await runInterface(session: session, theme: chosenTheme, downloadDirectory: downloadDirectory, watching: watching)
            return
        }
        let printer = HeadlessPrinter(session: session, interval: .milliseconds(Int(interval * 1000)), exitWhenDone: exitWhenDone)
        let outcome = PrinterOutcome()
        let count = await session.snapshot().torrents.count
        FileHandle.standardError.write(Data(
            "shoal: listening on port \(session.listenPort), downloading to \(downloadDirectory), \(count) torrent\(count == 1 ? "" : "s")\n".utf8))
        // Children report whether they were the session; once it has ended (after the printer
        // or a signal shut it down), the printer, the signal handler and the watch folders go too.
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await session.run()
                return true
            }
            group.addTask {
                await watching()
                return false
            }
            group.addTask {
                await outcome.set(await printer.run())
                await session.shutdown()
                return false
            }
            group.addTask {
                for await _ in SignalStream.termination() {
                    await session.shutdown()
                    break
                }
                return false
            }
            for await sessionEnded in group where sessionEnded {
                group.cancelAll()
            }
        }
        // `--exit-when-done` with a torrent that cannot finish: its error, and a failure status.
        if let failure = await outcome.failure { throw fail(failure) }
    }

    /// The full-screen interface over a running session; quitting stops the session cleanly.
    private func runInterface(session: Session, theme: Theme, downloadDirectory: String,
                              watching: @escaping @Sendable () async -> Void) async throws {
        enum Ended: Sendable { case session, interface(failure: String?), watching }
        let failure = await withTaskGroup(of: Ended.self) { group in
            group.addTask {
                await watching()
                return .watching
            }
            group.addTask {
                await session.run()
                return .session
            }
            group.addTask {
                var message: String?
                do throws(Terminal.Unavailable) {
                    try await TUIApp.run(session: session, theme: theme, downloadDirectory: downloadDirectory)
                } catch {
                    message = error.description
                }
                await session.shutdown()
                return .interface(failure: message)
            }
            // The session and the interface end; the watch folders are cancelled then.
            var failure: String?
            var remaining = 2
            for await ended in group {
                switch ended {
                case .session: remaining -= 1
                case .interface(let message): failure = message; remaining -= 1
                case .watching: continue
                }
                if remaining == 0 { group.cancelAll() }
            }
            return failure
        }
        if let failure { throw fail(failure) }
    }

    /// HOST:PORT with the host resolved to an IPv4 address (DHT queries go to addresses).
    static func nodeAddress(_ text: String) -> PeerAddress? {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 else { return nil }
        let host = String(text[..<colon])
        if let direct = PeerAddress(parsing: text), direct.compact != nil { return direct }
        var hints = addrinfo()
        hints.ai_family = AF_INET
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(result) }
        var buffer = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        guard let raw = first.pointee.ai_addr else { return nil }
        let ip = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer -> String? in
            var address = pointer.pointee.sin_addr
            guard inet_ntop(AF_INET, &address, &buffer, socklen_t(INET_ADDRSTRLEN)) != nil else { return nil }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return ip.map { PeerAddress(host: $0, port: port) }
    }

    static func defaultStateDirectory() -> String {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() + "/.local/share")
        return base + "/shoal"
    }
}
