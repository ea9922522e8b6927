import Foundation
import ShoalEngine
import TOMLKit

/// `$XDG_CONFIG_HOME/shoal/config.toml` (or `--config FILE`): defaults for the run options.
/// Command-line flags override it. Unknown keys are refused, so a typo is not silently ignored.
struct ConfigFile: Equatable {
    var downloadDir: String?
    var port: Int?
    var bind: String?
    var upKib: Int?
    var downKib: Int?
    var stateDir: String?
    var watch: [String] = []
    var watchAction: String?
    var theme: String?
    var dht: Bool?
    var dhtBootstrap: [String] = []
    var pex: Bool?
    var maxPeers: Int?
    var maxPeersTotal: Int?
    var seedRatio: Double?
    var seedMinutes: Int?
    var superSeed: Bool?
    var minAnnounceInterval: Int?
    var logLevel: String?
    var logFile: String?

    static let keys = ["download_dir", "port", "bind", "up_kib", "down_kib", "state_dir", "watch", "watch_action", "theme",
                       "dht", "dht_bootstrap", "pex", "max_peers", "max_peers_total", "seed_ratio", "seed_minutes", "super_seed",
                       "min_announce_interval", "log_level", "log_file"]

    static var defaultPath: String {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.config")
        return base + "/shoal/config.toml"
    }

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// Reads the file; a missing default file is an empty config, a missing named one an error.
    static func load(_ path: String?) throws(Problem) -> ConfigFile {
        let file = path ?? defaultPath
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            if path == nil && !FileManager.default.fileExists(atPath: file) { return ConfigFile() }
            throw Problem(description: "\(file): cannot read the configuration")
        }
        return try parse(text, name: file)
    }

    static func parse(_ text: String, name: String) throws(Problem) -> ConfigFile {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw Problem(description: "\(name): line \(error.source.begin.line): \(error.description)")
        } catch {
            throw Problem(description: "\(name): \(error)")
        }
        for key in table.keys where !keys.contains(key) {
            throw Problem(description: "\(name): unknown setting '\(key)' (known: \(keys.joined(separator: ", ")))")
        }
        func string(_ key: String) throws(Problem) -> String? {
            guard let value = table[key] else { return nil }
            guard let text = value.string else { throw Problem(description: "\(name): '\(key)' must be a string") }
            return text
        }
        // A relative path in the file means relative to the file, wherever Shoal is started.
        let base = (AbsolutePath.resolve(name) as NSString).deletingLastPathComponent
        func path(_ key: String) throws(Problem) -> String? {
            try string(key).map { AbsolutePath.resolve($0, against: base) }
        }
        func int(_ key: String) throws(Problem) -> Int? {
            guard let value = table[key] else { return nil }
            guard let number = value.int else { throw Problem(description: "\(name): '\(key)' must be a whole number") }
            return number
        }
        var config = ConfigFile()
        config.downloadDir = try path("download_dir")
        config.port = try int("port")
        config.bind = try string("bind")
        config.upKib = try int("up_kib")
        config.downKib = try int("down_kib")
        config.stateDir = try path("state_dir")
        config.watchAction = try string("watch_action")
        config.logLevel = try string("log_level")
        if let level = config.logLevel, LogSetup.level(level) == nil {
            throw Problem(description: "\(name): 'log_level' must be one of \(LogSetup.levels.joined(separator: ", "))")
        }
        config.logFile = try string("log_file").map { $0.isEmpty ? $0 : AbsolutePath.resolve($0, against: base) }
        config.theme = try string("theme").map { ($0 as NSString).expandingTildeInPath }
        func bool(_ key: String) throws(Problem) -> Bool? {
            guard let value = table[key] else { return nil }
            guard let flag = value.bool else { throw Problem(description: "\(name): '\(key)' must be true or false") }
            return flag
        }
        func positive(_ key: String) throws(Problem) -> Int? {
            guard let number = try int(key) else { return nil }
            guard number >= 1 else { throw Problem(description: "\(name): '\(key)' must be at least 1") }
            return number
        }
        config.maxPeers = try positive("max_peers")
        config.maxPeersTotal = try positive("max_peers_total")
        config.seedMinutes = try positive("seed_minutes")
        config.minAnnounceInterval = try positive("min_announce_interval")
        if let value = table["seed_ratio"] {
            guard let ratio = value.double ?? value.int.map(Double.init), ratio > 0 else {
                throw Problem(description: "\(name): 'seed_ratio' must be a number above 0")
            }
            config.seedRatio = ratio
        }
        config.dht = try bool("dht")
        config.superSeed = try bool("super_seed")
        config.pex = try bool("pex")
        if let list = table["dht_bootstrap"] {
            guard let items = list.array else { throw Problem(description: "\(name): 'dht_bootstrap' must be a list of \"HOST:PORT\"") }
            for item in items {
                guard let text = item.string, text.contains(":") else {
                    throw Problem(description: "\(name): 'dht_bootstrap' must be a list of \"HOST:PORT\"")
                }
                config.dhtBootstrap.append(text)
            }
        }
        if let watch = table["watch"] {
            if let single = watch.string {
                config.watch = [AbsolutePath.resolve(single, against: base)]
            } else if let list = watch.array {
                for item in list {
                    guard let text = item.string else { throw Problem(description: "\(name): 'watch' must list directories") }
                    config.watch.append(AbsolutePath.resolve(text, against: base))
                }
            } else {
                throw Problem(description: "\(name): 'watch' must be a directory or a list of them")
            }
        }
        return config
    }

    /// Every setting with the value in force and where it comes from, for `shoal config --print`.
    func effective(source: String) -> [(key: String, value: String, source: String)] {
        func quoted(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        func row(_ key: String, _ value: String?, _ fallback: String, _ note: String = "default") -> (String, String, String) {
            value.map { (key, $0, source) } ?? (key, fallback, note)
        }
        func list(_ items: [String]) -> String { "[" + items.map(quoted).joined(separator: ", ") + "]" }
        return [
            row("download_dir", downloadDir.map(quoted), quoted(FileManager.default.currentDirectoryPath), "default: the current directory"),
            row("port", port.map(String.init), "6881"),
            row("bind", bind.map(quoted), quoted("0.0.0.0")),
            row("up_kib", upKib.map(String.init), "0", "default: unlimited"),
            row("down_kib", downKib.map(String.init), "0", "default: unlimited"),
            row("state_dir", stateDir.map(quoted), quoted(RunCommand.defaultStateDirectory()), "default: $XDG_DATA_HOME/shoal"),
            row("watch", watch.isEmpty ? nil : list(watch), "[]"),
            row("watch_action", watchAction.map(quoted), quoted("rename")),
            row("theme", theme.map(quoted), quoted("default")),
            row("max_peers", maxPeers.map(String.init), "50", "default: per torrent"),
            row("max_peers_total", maxPeersTotal.map(String.init), "500", "default: all torrents together"),
            row("seed_ratio", seedRatio.map { String($0) }, "", "default: no ratio goal"),
            row("seed_minutes", seedMinutes.map(String.init), "", "default: no time goal"),
            row("super_seed", superSeed.map(String.init), "false"),
            row("dht", dht.map(String.init), "false"),
            row("dht_bootstrap", dhtBootstrap.isEmpty ? nil : list(dhtBootstrap), "[]", "default: no node is contacted"),
            row("pex", pex.map(String.init), "true"),
            row("min_announce_interval", minAnnounceInterval.map(String.init), "30", "default: seconds between announces at least"),
            row("log_level", logLevel.map(quoted), quoted("info")),
            row("log_file", logFile.map(quoted), quoted(LogSetup.defaultFile(stateDirectory: stateDir)),
                stateDir == nil ? "default: $XDG_STATE_HOME/shoal/shoal.log" : "default: in the state directory"),
        ].map { (key: $0.0, value: $0.1, source: $0.2) }
    }
}
