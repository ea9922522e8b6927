import Foundation
import Logging
import ShoalEngine

/// The run command's logging: a file at the chosen level (rotated, see `LogFile`), and in
/// headless mode stderr for warnings and errors — or for everything at the log level when it
/// is `debug` or `trace`, asked for to watch a swarm as it happens. The full-screen interface
/// owns the terminal, so there only the file is written.
enum LogSetup {
    static let levels = Logger.Level.allCases.map(\.rawValue)

    static func level(_ text: String) -> Logger.Level? { Logger.Level(rawValue: text.lowercased()) }

    /// `$XDG_STATE_HOME/shoal/shoal.log`; an instance with a state directory of its own keeps
    /// its log there, so two instances never rotate each other's file.
    static func defaultFile(stateDirectory: String?) -> String {
        if let stateDirectory { return stateDirectory + "/shoal.log" }
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.local/state")
        return base + "/shoal/shoal.log"
    }

    /// The engine's logger. `file` nil or empty (`--log-file ''`) writes no file.
    /// `recent`: keeps info and up for the interface's Log view (and `shoal attach`'s).
    static func logger(level: Logger.Level, file: String?, headless: Bool, recent: RecentLog? = nil) throws(LogFile.CannotOpen) -> Logger {
        var handlers: [any LogHandler] = []
        if let recent { handlers.append(recent.handler(level: max(level, .info))) }
        if let file, !file.isEmpty, file != "none" {
            let log = try LogFile(path: file)
            handlers.append(LineLogHandler(level: level) { log.write($0) })
        }
        if headless {
            let stderrLevel = level <= .debug ? level : max(level, .warning)
            handlers.append(LineLogHandler(level: stderrLevel) { line in
                FileHandle.standardError.write(Data(("shoal: " + line + "\n").utf8))
            })
        }
        guard !handlers.isEmpty else { return Logger(label: "shoal", factory: { _ in SwiftLogNoOpLogHandler() }) }
        return Logger(label: "shoal", factory: { _ in MultiplexLogHandler(handlers) })
    }
}
