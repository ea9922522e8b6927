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

    @Option(help: ArgumentHelp(RunSettings.downloadDir.help))
    var downloadDir: String?

    @Option(help: ArgumentHelp(RunSettings.port.help))
    var port: Int?

    @Option(help: ArgumentHelp(RunSettings.bind.help))
    var bind: [String] = []

    @Option(help: ArgumentHelp(RunSettings.upKib.help))
    var upKib: Int?

    @Option(help: ArgumentHelp(RunSettings.downKib.help))
    var downKib: Int?

    @Option(help: ArgumentHelp(RunSettings.queueDownloads.help))
    var queueDownloads: Int?

    @Option(help: ArgumentHelp(RunSettings.queueSeeds.help))
    var queueSeeds: Int?

    @Option(help: ArgumentHelp(RunSettings.queueStalledMinutes.help))
    var queueStalledMinutes: Int?

    @Option(help: ArgumentHelp(RunSettings.altUpKib.help))
    var altUpKib: Int?

    @Option(help: ArgumentHelp(RunSettings.altDownKib.help))
    var altDownKib: Int?

    @Option(help: ArgumentHelp(RunSettings.altSpeedSchedule.help))
    var altSpeedSchedule: String?

    @Option(help: ArgumentHelp(RunSettings.watch.help))
    var watch: [String] = []

    @Option(help: ArgumentHelp(RunSettings.watchAction.help))
    var watchAction: String?

    @Option(help: "Configuration file (default: $XDG_CONFIG_HOME/shoal/config.toml).")
    var config: String?

    @Option(help: ArgumentHelp(RunSettings.stateDir.help))
    var stateDir: String?

    @Flag(help: "Exit (status 0) once every torrent is complete and verified.")
    var exitWhenDone = false

    @Option(name: .customLong("peer"), help: "A peer to dial directly, as HOST:PORT (repeatable).")
    var peers: [String] = []

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(RunSettings.dht.help))
    var dht: Bool?

    @Option(name: .customLong("dht-bootstrap"), help: ArgumentHelp(RunSettings.dhtBootstrap.help))
    var dhtBootstrap: [String] = []

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(RunSettings.utp.help))
    var utp: Bool?

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(RunSettings.pex.help))
    var pex: Bool?

    @Option(help: ArgumentHelp(RunSettings.maxPeers.help))
    var maxPeers: Int?

    @Option(help: ArgumentHelp(RunSettings.maxPeersTotal.help))
    var maxPeersTotal: Int?

    @Option(help: ArgumentHelp(RunSettings.seedRatio.help))
    var seedRatio: Double?

    @Option(help: ArgumentHelp(RunSettings.seedMinutes.help))
    var seedMinutes: Int?

    @Flag(help: ArgumentHelp(RunSettings.superSeed.help))
    var superSeed = false

    @Option(help: ArgumentHelp(RunSettings.minAnnounceInterval.help))
    var minAnnounceInterval: Int?

    @Option(help: ArgumentHelp(RunSettings.trackerRequestsPerSecond.help))
    var trackerRequestsPerSecond: Int?

    @Option(help: ArgumentHelp(RunSettings.encryption.help))
    var encryption: String?

    @Option(help: ArgumentHelp(RunSettings.logLevel.help))
    var logLevel: String?

    @Option(help: ArgumentHelp(RunSettings.logFile.help))
    var logFile: String?

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(RunSettings.rpc.help))
    var rpc: Bool?

    @Option(help: ArgumentHelp(RunSettings.rpcBind.help))
    var rpcBind: [String] = []

    @Option(help: ArgumentHelp(RunSettings.rpcPort.help))
    var rpcPort: Int?

    @Option(help: ArgumentHelp(RunSettings.rpcUsername.help))
    var rpcUsername: String?

    @Option(help: ArgumentHelp(RunSettings.rpcPassword.help))
    var rpcPassword: String?

    @Option(help: ArgumentHelp(RunSettings.rpcHostWhitelist.help))
    var rpcHostWhitelist: [String] = []

    @Option(help: "Seconds between progress lines in headless mode (above 1,000 torrents: lines for those busy or changed, and a summary).")
    var interval: Double = 1

    @Option(help: ArgumentHelp(RunSettings.theme.help))
    var theme: String?

    func validate() throws {
        do {
            typealias S = RunSettings
            try S.port.check(port)
            try S.upKib.check(upKib)
            try S.downKib.check(downKib)
            try S.queueDownloads.check(queueDownloads)
            try S.queueSeeds.check(queueSeeds)
            try S.queueStalledMinutes.check(queueStalledMinutes)
            try S.altUpKib.check(altUpKib)
            try S.altDownKib.check(altDownKib)
            try S.altSpeedSchedule.check(altSpeedSchedule)
            try S.watchAction.check(watchAction)
            try S.maxPeers.check(maxPeers)
            try S.maxPeersTotal.check(maxPeersTotal)
            try S.seedRatio.check(seedRatio)
            try S.seedMinutes.check(seedMinutes)
            try S.minAnnounceInterval.check(minAnnounceInterval)
            try S.trackerRequestsPerSecond.check(trackerRequestsPerSecond)
            try S.logLevel.check(logLevel)
            try S.encryption.check(encryption)
            try S.dhtBootstrap.check(dhtBootstrap.isEmpty ? nil : dhtBootstrap)
            try S.rpcPort.check(rpcPort)
            try S.rpcPassword.check(rpcPassword)
        } catch {
            throw ValidationError(error.description)
        }
        guard interval > 0 else { throw ValidationError("--interval must be positive") }
        for peer in peers where PeerAddress(parsing: peer) == nil {
            throw ValidationError("--peer \(peer): expected HOST:PORT")
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
        let file = try ConfigFile.loadForCommand(config)
        typealias S = RunSettings
        let port = S.port.resolveWithDefault(self.port, file)
        let bind = S.bind.resolveWithDefault(self.bind.isEmpty ? nil : self.bind, file)
        let upKib = S.upKib.resolveWithDefault(self.upKib, file)
        let downKib = S.downKib.resolveWithDefault(self.downKib, file)
        // Paths are made absolute now: saved in the session, a relative one would mean another
        // directory on the next start from elsewhere. Flags are relative to the working
        // directory; the config file's paths were resolved against its own directory.
        let downloadDir = S.downloadDir.resolve(self.downloadDir, file)
        let stateDir = S.stateDir.resolve(self.stateDir, file)
        let watchDirectories = S.watch.resolve(watch.isEmpty ? nil : watch, file) ?? []
        let afterAdding = WatchFolder.AfterAdding(rawValue: S.watchAction.resolveWithDefault(watchAction, file))!
        let chosenTheme = headless ? Theme.builtIn : try file.theme(theme)
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
        var config = EngineConfig(downloadDirectory: downloadDirectory, listenPort: UInt16(port),
                                  uploadLimit: upKib * 1024, downloadLimit: downKib * 1024)
        config.bindAddresses = bind
        config.stateDirectory = state
        let level = LogSetup.level(S.logLevel.resolveWithDefault(logLevel, file))!  // checked by the flag's and the file's rule
        let logPath = S.logFile.resolve(logFile, file) ?? LogSetup.defaultFile(stateDirectory: stateDir)
        do {
            // The Log view's lines: for the interface here, or a remote one through the RPC.
            let recent = RecentLog()
            config.recentLog = recent
            config.logger = try LogSetup.logger(level: level, file: logPath, headless: headless, recent: recent)
        } catch {
            throw fail(error.description)
        }
        config.logger.info("starting", metadata: ["version": "\(ShoalVersion.string)", "port": "\(port)", "download_dir": "\(downloadDirectory)"])
        let bootstrapNodes = S.dhtBootstrap.resolve(dhtBootstrap.isEmpty ? nil : dhtBootstrap, file) ?? []
        var resolved: [PeerAddress] = []
        for node in bootstrapNodes {
            guard let address = Self.nodeAddress(node) else {
                _ = fail("configuration: dht_bootstrap: cannot resolve \(node)")
                throw ExitCode(2)
            }
            resolved.append(address)
        }
        // Bootstrap nodes imply the DHT, unless it is turned off outright.
        config.dhtEnabled = dht ?? file.value(S.dht) ?? !bootstrapNodes.isEmpty
        config.utpEnabled = S.utp.resolveWithDefault(utp, file)
        config.dhtBootstrap = resolved
        config.pexEnabled = S.pex.resolveWithDefault(pex, file)
        config.superSeeding = S.superSeed.resolveWithDefault(superSeed ? true : nil, file)
        config.maxPeersPerTorrent = S.maxPeers.resolveWithDefault(maxPeers, file)
        config.maxPeersTotal = S.maxPeersTotal.resolveWithDefault(maxPeersTotal, file)
        if config.maxPeersTotal > budget.sockets {
            warn("--max-peers-total \(config.maxPeersTotal) is more than \(budget.sockets) connections the descriptor limit allows (ulimit -n \(budget.limit)); using \(budget.sockets)")
            config.maxPeersTotal = budget.sockets
        }
        config.seedRatioLimit = S.seedRatio.resolve(seedRatio, file)
        config.seedTimeLimit = (seedMinutes ?? file.value(S.seedMinutes)).map { .seconds($0 * 60) }
        config.minimumAnnounceInterval = .seconds(S.minAnnounceInterval.resolveWithDefault(minAnnounceInterval, file))
        config.trackerRequestsPerSecond = S.trackerRequestsPerSecond.resolveWithDefault(trackerRequestsPerSecond, file)
        config.encryption = EncryptionPolicy(rawValue: S.encryption.resolveWithDefault(encryption, file))!  // checked by its rule
        config.maxActiveDownloads = S.queueDownloads.resolveWithDefault(queueDownloads, file)
        config.maxActiveSeeds = S.queueSeeds.resolveWithDefault(queueSeeds, file)
        config.queueStalledAfter = .seconds(S.queueStalledMinutes.resolveWithDefault(queueStalledMinutes, file) * 60)
        config.altUploadLimit = S.altUpKib.resolve(altUpKib, file).map { $0 * 1024 }
        config.altDownloadLimit = S.altDownKib.resolve(altDownKib, file).map { $0 * 1024 }
        config.altSpeedSchedule = S.altSpeedSchedule.resolve(altSpeedSchedule, file).flatMap { try? AltSpeedSchedule(parsing: $0) }  // checked by its rule
        // Limits set in the interface last run come back, unless this run's flags set them.
        config.restoresGlobalLimits = self.upKib == nil && self.downKib == nil
        // And so does a download directory a remote set, unless this run names one.
        config.restoresDownloadDirectory = downloadDir == nil
        // The port and connection limits a remote set come back unless this run's flags or config file name them.
        config.restoresPeerPort = self.port == nil && file.value(S.port) == nil
        config.restoresPeerLimitGlobal = maxPeersTotal == nil && file.value(S.maxPeersTotal) == nil
        config.restoresPeerLimitPerTorrent = maxPeers == nil && file.value(S.maxPeers) == nil
        let session: Session
        do {
            session = try await Session.start(config)
        } catch {
            throw fail("\(error)")
        }
        for problem in await session.restore() { warn(problem) }
        let remote: RPCServer?
        do {
            remote = try await RemoteControl.start(settings: remoteSettings(file), session: session, logger: config.logger)
        } catch {
            await session.shutdown()
            throw fail("\(error)")
        }
        let addresses = peers.compactMap(PeerAddress.init(parsing:))
        for (source, outcome) in await session.add(sources: sources) {
            if case .failure(let error) = outcome {
                // Already there from the last run: nothing to do.
                if case Session.SessionError.duplicate = error {} else { warn("\(source.name): \(error)") }
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
        // The RPC runs beside the session and the watch folders, for as long as they do.
        let serving: @Sendable () async -> Void = {
            guard let remote else { return }
            // Cancelled with the rest when the session ends: the listener's stream ends then.
            await withDiscardingTaskGroup { group in
                group.addTask { await remote.run() }
                group.addTask { await watching() }
            }
        }
        let background = remote == nil ? watching : serving
        if !headless {
            try await runInterface(session: session, theme: chosenTheme, downloadDirectory: downloadDirectory,
                                   preferences: state + "/interface.json", watching: background)
            return
        }
        let printer = HeadlessPrinter(session: session, interval: .milliseconds(Int(interval * 1000)), exitWhenDone: exitWhenDone,
                                      showsCloses: level <= .debug)
        let outcome = PrinterOutcome()
        let count = await session.snapshot().torrents.count
        FileHandle.standardError.write(Data(
            "shoal: listening on port \(session.listenPort), downloading to \(downloadDirectory), \(count) torrent\(count == 1 ? "" : "s")\n".utf8))
        if let remote {
            FileHandle.standardError.write(Data("shoal: RPC on \(remote.bindAddresses.map { RemoteControl.url(host: $0, port: remote.port) }.joined(separator: ", "))\n".utf8))
        }
        // Children report whether they were the session; once it has ended (after the printer
        // or a signal shut it down), the printer, the signal handler and the watch folders go too.
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await session.run()
                return true
            }
            group.addTask {
                await background()
                return false
            }
            // Stopping, the RPC goes first: a remote is refused at once rather than left waiting
            // while the session saves and closes (it reconnects when the daemon is back).
            group.addTask {
                await outcome.set(await printer.run())
                await remote?.shutdown()
                await session.shutdown()
                return false
            }
            group.addTask {
                for await _ in SignalStream.termination() {
                    await remote?.shutdown()
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
    private func runInterface(session: Session, theme: Theme, downloadDirectory: String, preferences: String,
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
                    try await TUIApp.run(session: session, theme: theme, downloadDirectory: downloadDirectory,
                                         preferences: preferences)
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
