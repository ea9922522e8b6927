/// How much the user wants a file: skipped files are not downloaded (pieces shared with wanted
/// files still are), high-priority files are fetched before normal ones.
public enum FilePriority: Int, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case skip = 0
    case normal = 1
    case high = 2

    public static func < (lhs: FilePriority, rhs: FilePriority) -> Bool { lhs.rawValue < rhs.rawValue }

    /// A piece takes the highest priority of the files it touches.
    public static func piecePriorities(geometry: TorrentGeometry, files: [FilePriority]) -> [FilePriority] {
        var result = [FilePriority](repeating: .skip, count: geometry.pieceCount)
        for (file, priority) in files.enumerated() where priority > .skip {
            for piece in geometry.pieces(ofFile: file) where result[piece] < priority { result[piece] = priority }
        }
        return result
    }
}
