import ArgumentParser
import Foundation
import ShoalEngine
import ShoalTUI
import TOMLKit

/// `$XDG_CONFIG_HOME/shoal/config.toml` (or `--config FILE`): defaults for the run options, one
/// key per setting of `RunSettings`. Command-line flags override it. Unknown keys are refused,
/// so a typo is not silently ignored.
struct ConfigFile {
    /// What the file sets, by key, each value checked and of its setting's type.
    private var values: [String: any SettingValue] = [:]

    func value<Value>(_ setting: Setting<Value>) -> Value? { values[setting.key] as? Value }

    static var keys: [String] { RunSettings.all.map(\.key) }

    static var defaultPath: String {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.config")
        return base + "/shoal/config.toml"
    }

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// `load` for a command: a bad configuration is a usage error, named on stderr, status 2.
    static func loadForCommand(_ path: String?) throws -> ConfigFile {
        do {
            return try load(path)
        } catch {
            _ = fail(error.description)
            throw ExitCode(2)
        }
    }

    /// The interface's theme: the flag, else the file's `theme`, else the default.
    func theme(_ flag: String?) throws -> Theme {
        do {
            return try Theme.load((RunSettings.theme.resolveWithDefault(flag, self) as NSString).expandingTildeInPath)
        } catch {
            throw fail(error.description)
        }
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
        // A relative path in the file means relative to the file, wherever Shoal is started.
        let base = (AbsolutePath.resolve(name) as NSString).deletingLastPathComponent
        var config = ConfigFile()
        for setting in RunSettings.all {
            guard let value = table[setting.key] else { continue }
            config.values[setting.key] = try setting.parse(value, file: name, base: base)
        }
        return config
    }

    /// Every setting with the value in force and where it comes from, for `shoal config --print`.
    func effective(source: String) -> [(key: String, value: String, source: String)] {
        RunSettings.all.map { setting in
            if let value = values[setting.key] { return (setting.key, value.toml, source) }
            return (setting.key, runtimeDefault(setting) ?? setting.fallbackTOML ?? "", setting.note)
        }
    }

    /// Defaults known only when Shoal runs: the working directory, the XDG directories.
    private func runtimeDefault(_ setting: any AnySetting) -> String? {
        switch setting.key {
        case RunSettings.downloadDir.key: FileManager.default.currentDirectoryPath.toml
        case RunSettings.stateDir.key: RunCommand.defaultStateDirectory().toml
        case RunSettings.watch.key, RunSettings.dhtBootstrap.key: "[]"
        case RunSettings.logFile.key: LogSetup.defaultFile(stateDirectory: value(RunSettings.stateDir)).toml
        default: nil
        }
    }
}
