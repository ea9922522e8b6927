import Foundation

/// Paths the user gives are made absolute when given: a relative download directory saved in
/// the session would mean a different directory on the next start from elsewhere.
public enum AbsolutePath {
    /// `path` with `~` expanded, made absolute against `base` (default: the working directory),
    /// with `.` and `..` resolved textually (a link in the path is the user's own choice).
    public static func resolve(_ path: String, against base: String = FileManager.default.currentDirectoryPath) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        let absolute = expanded.hasPrefix("/") ? expanded : (base as NSString).appendingPathComponent(expanded)
        var parts: [Substring] = []
        for component in absolute.split(separator: "/") {
            switch component {
            case ".": continue
            case "..": _ = parts.popLast()
            default: parts.append(component)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    public static func resolve(_ path: String) -> String { resolve(path, against: FileManager.default.currentDirectoryPath) }
}
