import Foundation
import TOMLKit

/// Colours for every style slot. Themes are TOML files (see Themes/): a `[slots]` table whose
/// entries give `fg`, `bg` (a colour name or 0-255) and optional `bold`, `reverse`, `dim`.
/// A file only needs the slots it changes; the rest come from the built-in default. A slot it
/// writes is taken whole (a colour it leaves out is the terminal's own).
public struct Theme: Sendable, Equatable {
    public struct Style: Sendable, Equatable {
        public var foreground: Int  // -1 = terminal default
        public var background: Int
        public var bold = false
        public var reverse = false
        public var dim = false

        public init(_ foreground: Int, _ background: Int = -1, bold: Bool = false, reverse: Bool = false, dim: Bool = false) {
            self.foreground = foreground
            self.background = background
            self.bold = bold
            self.reverse = reverse
            self.dim = dim
        }
    }

    public var name: String
    public var styles: [StyleSlot: Style]
    /// The terminal background the theme is made for (`background = "light"` in its file).
    public var background = Background.dark

    public func style(_ slot: StyleSlot) -> Style { styles[slot] ?? Style(-1) }

    static let colorNames: [String: Int] = [
        "default": -1, "black": 0, "red": 1, "green": 2, "yellow": 3, "blue": 4, "magenta": 5, "cyan": 6, "white": 7,
        "gray": 8, "grey": 8, "bright_red": 9, "bright_green": 10, "bright_yellow": 11, "bright_blue": 12,
        "bright_magenta": 13, "bright_cyan": 14, "bright_white": 15,
    ]

    public static let builtIn = Theme(name: "default", styles: [
        .text: Style(-1), .dim: Style(8), .title: Style(6, bold: true), .header: Style(6, bold: true),
        .selected: Style(0, 6), .statusBar: Style(0, 7), .key: Style(3, bold: true), .prompt: Style(-1, bold: true),
        .message: Style(3), .border: Style(8),
        .downloading: Style(2), .seeding: Style(12, bold: true), .paused: Style(3), .checking: Style(5), .finished: Style(6),
        .error: Style(1, bold: true),
        .pieceHave: Style(2), .pieceActive: Style(3, bold: true), .pieceMissing: Style(8),
        .heatLow: Style(1), .heatMid: Style(3), .heatHigh: Style(2),
        .graphDown: Style(2), .graphUp: Style(12),
    ])

    /// No colours at all: for monochrome terminals and NO_COLOR.
    public static let monochrome = Theme(name: "mono", styles: Dictionary(uniqueKeysWithValues: StyleSlot.allCases.map { slot in
        switch slot {
        case .selected, .statusBar: return (slot, Style(-1, reverse: true))
        case .title, .header, .key, .error, .pieceActive, .seeding: return (slot, Style(-1, bold: true))
        case .dim, .pieceMissing, .border: return (slot, Style(-1, dim: true))
        default: return (slot, Style(-1))
        }
    }))

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses a theme file's text on top of the built-in default.
    public static func parse(_ text: String, name: String) throws(LoadError) -> Theme {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw LoadError(description: "\(name): line \(error.source.begin.line): \(error.description)")
        } catch {
            throw LoadError(description: "\(name): \(error)")
        }
        var theme = builtIn
        theme.name = table["name"]?.string ?? name
        if let background = table["background"] {
            guard let value = background.string.flatMap(Background.init(rawValue:)) else {
                throw LoadError(description: "\(name): background must be \"dark\" or \"light\"")
            }
            theme.background = value
        }
        guard let slots = table["slots"]?.table else { return theme }
        for key in slots.keys {
            guard let slot = StyleSlot.allCases.first(where: { $0.rawValue.lowercased() == key.replacingOccurrences(of: "_", with: "").lowercased() }) else {
                throw LoadError(description: "\(name): unknown slot '\(key)' (known: \(StyleSlot.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let entry = slots[key]?.table else { throw LoadError(description: "\(name): slot '\(key)' must be a table") }
            // A slot written is the whole slot: colours it leaves out are the terminal's, not the
            // default theme's (mono's reversed rows kept the default's cyan background).
            var style = Style(-1)
            if let fg = entry["fg"] { style.foreground = try color(fg, slot: key, in: name) }
            if let bg = entry["bg"] { style.background = try color(bg, slot: key, in: name) }
            style.bold = entry["bold"]?.bool ?? false
            style.reverse = entry["reverse"]?.bool ?? false
            style.dim = entry["dim"]?.bool ?? false
            theme.styles[slot] = style
        }
        return theme
    }

    private static func color(_ value: any TOMLValueConvertible, slot: String, in name: String) throws(LoadError) -> Int {
        if let number = value.int, (-1...255).contains(number) { return number }
        if let text = value.string, let number = colorNames[text.lowercased()] { return number }
        throw LoadError(description: "\(name): slot '\(slot)': colour must be a name (\(colorNames.keys.sorted().joined(separator: ", "))) or 0-255")
    }

    /// Every theme that can be chosen by name: the built-in ones, then the files in
    /// `$XDG_CONFIG_HOME/shoal/themes/` and `./Themes/`, each name once.
    public static func availableNames() -> [String] {
        var names = ["default", "mono"]
        for directory in [configDirectory() + "/shoal/themes", "Themes"] {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for file in files.sorted() where file.hasSuffix(".toml") {
                let name = String(file.dropLast(5))
                if !names.contains(name) { names.append(name) }
            }
        }
        return names
    }

    static func configDirectory() -> String {
        ProcessInfo.processInfo.environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.config")
    }

    /// `NAME` or a file path. Looks in the path itself, `$XDG_CONFIG_HOME/shoal/themes/`, then
    /// `./Themes/`; "default" and "mono" are built in.
    public static func load(_ nameOrPath: String) throws(LoadError) -> Theme {
        let config = configDirectory()
        let candidates = [nameOrPath, "\(config)/shoal/themes/\(nameOrPath).toml", "Themes/\(nameOrPath).toml"]
        for path in candidates where FileManager.default.fileExists(atPath: path) && !path.isEmpty {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw LoadError(description: "\(path): cannot read the theme")
            }
            return try parse(text, name: (path as NSString).lastPathComponent)
        }
        switch nameOrPath {
        case "default": return builtIn
        case "mono", "monochrome": return monochrome
        default: throw LoadError(description: "no theme '\(nameOrPath)' (a file, \(config)/shoal/themes/NAME.toml or Themes/NAME.toml)")
        }
    }
}
