import Foundation
import ShoalEngine
import TOMLKit

/// A value a setting can hold: read from TOML, written back as TOML for `shoal config --print`.
protocol SettingValue: Equatable, Sendable {
    /// Nil when the TOML value has another type.
    static func read(_ value: any TOMLValueConvertible) -> Self?
    var toml: String { get }
    /// "a whole number", "true or false"…: what a wrong value is told it should be.
    static var kindName: String { get }
}

extension Int: SettingValue {
    static func read(_ value: any TOMLValueConvertible) -> Int? { value.int }
    var toml: String { String(self) }
    static var kindName: String { "a whole number" }
}

extension Double: SettingValue {
    static func read(_ value: any TOMLValueConvertible) -> Double? { value.double ?? value.int.map(Double.init) }
    var toml: String { String(self) }
    static var kindName: String { "a number" }
}

extension Bool: SettingValue {
    static func read(_ value: any TOMLValueConvertible) -> Bool? { value.bool }
    var toml: String { String(self) }
    static var kindName: String { "true or false" }
}

extension String: SettingValue {
    static func read(_ value: any TOMLValueConvertible) -> String? { value.string }
    var toml: String { "\"" + replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
    static var kindName: String { "a string" }
}

extension Array: SettingValue where Element == String {
    /// A list of strings; a single string is taken as a list of one (`watch = "~/in"`).
    static func read(_ value: any TOMLValueConvertible) -> [String]? {
        if let single = value.string { return [single] }
        guard let items = value.array else { return nil }
        let strings = items.compactMap(\.string)
        return strings.count == items.count ? strings : nil
    }
    var toml: String { "[" + map(\.toml).joined(separator: ", ") + "]" }
    static var kindName: String { "a list of strings" }
}

/// One run setting, declared once (see `RunSettings`): its config key, the flag spelled from it,
/// its default, its rule, and the words for `--help`, `shoal config --print` and the README.
struct Setting<Value: SettingValue>: Sendable {
    let key: String
    /// Nil: unset unless given (a goal, a list), or a default known only at run time (`note`).
    let fallback: Value?
    /// What the default means, for `shoal config --print` ("default: per torrent").
    let note: String
    let help: String
    /// Relative paths in the file are relative to the file; flags are made absolute at once.
    var isPath = false
    /// Returns what is wrong with a value, or nil.
    var rule: @Sendable (Value) -> String? = { _ in nil }

    var flag: String { "--" + key.replacingOccurrences(of: "_", with: "-") }

    /// The value in force: the flag, else the file, else the default.
    func resolve(_ flag: Value?, _ file: ConfigFile) -> Value? {
        flag.map { absolute($0, against: FileManager.default.currentDirectoryPath) } ?? file.value(self) ?? fallback
    }

    /// The same for a setting with a default, which always has a value.
    func resolveWithDefault(_ flag: Value?, _ file: ConfigFile) -> Value {
        guard let value = resolve(flag, file) else { preconditionFailure("setting \(key) has no default") }
        return value
    }

    /// Checks a flag's value, as the file's are checked when read.
    func check(_ flag: Value?) throws(ConfigFile.Problem) {
        if let flag, let problem = rule(flag) { throw ConfigFile.Problem(description: "\(self.flag) \(problem)") }
    }

    /// A path setting's value made absolute against `base` (flags: the working directory; the
    /// file: its own directory); `''` stays empty (it means "none"). Other settings as they are.
    func absolute(_ value: Value, against base: String) -> Value {
        guard isPath else { return value }
        if let path = value as? String, !path.isEmpty { return AbsolutePath.resolve(path, against: base) as! Value }
        if let paths = value as? [String] { return paths.map { AbsolutePath.resolve($0, against: base) } as! Value }
        return value
    }
}

/// What `ConfigFile` and `shoal config --print` need of any setting, whatever its type.
protocol AnySetting: Sendable {
    var key: String { get }
    var note: String { get }
    var help: String { get }
    var flag: String { get }
    var fallbackTOML: String? { get }
    /// Reads the key's value from the table, checked and (for paths) resolved against `base`.
    func parse(_ value: any TOMLValueConvertible, file: String, base: String) throws(ConfigFile.Problem) -> any SettingValue
}

extension Setting: AnySetting {
    var fallbackTOML: String? { fallback?.toml }

    func parse(_ value: any TOMLValueConvertible, file: String, base: String) throws(ConfigFile.Problem) -> any SettingValue {
        guard let typed = Value.read(value) else { throw ConfigFile.Problem(description: "\(file): '\(key)' must be \(Value.kindName)") }
        if let problem = rule(typed) { throw ConfigFile.Problem(description: "\(file): '\(key)' \(problem)") }
        return absolute(typed, against: base)
    }
}
