/// How much the user wants a file: skipped files are not downloaded (pieces shared with wanted
/// files still are); of the wanted, every piece of a higher level is fetched before any of a
/// lower one (as Transmission and qBittorrent do).
public enum FilePriority: Int, Sendable, Hashable, Codable, CaseIterable, Comparable {
    // The raw values are what resume files and the attach protocol hold: `low` came later, so
    // it has the next free number, and order comes from `rank`.
    case skip = 0
    case normal = 1
    case high = 2
    case low = 3

    /// 0 for skip, then low, normal, high.
    public var rank: Int {
        switch self {
        case .skip: 0
        case .low: 1
        case .normal: 2
        case .high: 3
        }
    }

    /// Lowest first.
    public static let ordered: [FilePriority] = [.skip, .low, .normal, .high]

    public static func < (lhs: FilePriority, rhs: FilePriority) -> Bool { lhs.rank < rhs.rank }

    /// One level up or down, staying within skip ... high.
    public func stepped(by step: Int) -> FilePriority {
        Self.ordered[min(Self.ordered.count - 1, max(0, rank + step))]
    }

    /// A piece takes the highest priority of the files it touches.
    public static func piecePriorities(geometry: TorrentGeometry, files: [FilePriority]) -> [FilePriority] {
        var result = [FilePriority](repeating: .skip, count: geometry.pieceCount)
        for (file, priority) in files.enumerated() where priority > .skip {
            for piece in geometry.pieces(ofFile: file) where result[piece] < priority { result[piece] = priority }
        }
        return result
    }
}
