import Foundation

/// Tab completion for the add prompt, like a shell's: completes as far as the matches agree,
/// adds "/" after a directory, and lists the choices when there are several. Offers
/// directories and `.torrent` / `.magnet` files; hidden names only when the typed part starts
/// with a dot. Pure apart from the directory listing, which the caller passes in.
public enum PathCompletion {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var isDirectory: Bool
        public init(name: String, isDirectory: Bool) {
            self.name = name
            self.isDirectory = isDirectory
        }
    }

    public typealias Lister = @Sendable (String) -> [Entry]?

    public struct Result: Sendable, Equatable {
        public var text: String
        /// The names to choose from when the text could not be completed to one.
        public var choices: [String]
    }

    /// `directoriesOnly`: for a place to move data to, not a torrent to add.
    public static func complete(_ text: String, home: String, list: Lister, directoriesOnly: Bool = false) -> Result {
        let slash = text.lastIndex(of: "/")
        let directoryPart = slash.map { String(text[...$0]) } ?? ""
        let typed = slash.map { String(text[text.index(after: $0)...]) } ?? text
        var directory = directoryPart.isEmpty ? "." : directoryPart
        if directory == "~/" || directory.hasPrefix("~/") { directory = home + directory.dropFirst() }
        if text == "~" { return Result(text: "~/", choices: []) }
        guard let entries = list(directory) else { return Result(text: text, choices: []) }
        let matches = entries.filter { entry in
            entry.name.hasPrefix(typed) && (typed.hasPrefix(".") || !entry.name.hasPrefix("."))
                && (entry.isDirectory || (!directoriesOnly && isTorrentOrMagnet(entry.name)))
        }.sorted { $0.name < $1.name }
        guard let first = matches.first else { return Result(text: text, choices: []) }
        if matches.count == 1 {
            return Result(text: directoryPart + first.name + (first.isDirectory ? "/" : ""), choices: [])
        }
        var common = first.name
        for match in matches.dropFirst() {
            while !match.name.hasPrefix(common) { common.removeLast() }
        }
        return Result(text: directoryPart + common, choices: matches.map { $0.name + ($0.isDirectory ? "/" : "") })
    }

    static func isTorrentOrMagnet(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.hasSuffix(".torrent") || lower.hasSuffix(".magnet")
    }

    /// The local filesystem.
    public static let local: Lister = { directory in
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        return names.map { name in
            var isDirectory: ObjCBool = false
            let path = (directory as NSString).appendingPathComponent(name)
            _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            return Entry(name: name, isDirectory: isDirectory.boolValue)
        }
    }
}
