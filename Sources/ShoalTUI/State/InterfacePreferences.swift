import Foundation

/// What the interface remembers between runs: the list's sort and view. A small JSON file
/// (`interface.json` in the state directory); unreadable or absent, the defaults.
public struct InterfacePreferences: Codable, Sendable, Equatable {
    public var sort: SortOrder = .added
    public var sortReversed = false
    public var view: TorrentView = .all

    public init() {}

    public static func load(_ path: String) -> InterfacePreferences {
        guard let data = FileManager.default.contents(atPath: path),
            let preferences = try? JSONDecoder().decode(InterfacePreferences.self, from: data)
        else { return InterfacePreferences() }
        return preferences
    }

    /// Written whole through a temporary file; a failure is returned for the caller to show.
    public func save(_ path: String) -> String? {
        do {
            try JSONEncoder().encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
            return nil
        } catch {
            return "cannot save the interface's settings to \(path): \(error.localizedDescription)"
        }
    }
}

extension UIState {
    public var preferences: InterfacePreferences {
        get {
            var preferences = InterfacePreferences()
            preferences.sort = sort
            preferences.sortReversed = sortReversed
            preferences.view = view
            return preferences
        }
        set {
            sort = newValue.sort
            sortReversed = newValue.sortReversed
            view = newValue.view
        }
    }
}
