import ShoalCore
import ShoalEngine

/// The Files tab's rows: a torrent's files under their folders, each folder summing what is
/// below it, with collapsed folders' contents left out. Folders come before files at each level;
/// otherwise the torrent's own order is kept. Pure, rebuilt from the snapshot each time it is
/// needed (a few milliseconds for 10,000 files).
public struct FileTree: Sendable {
    public struct Row: Sendable, Equatable {
        /// A folder's path inside the torrent ("a/b"), nil for a file.
        public var folder: String?
        public var collapsed: Bool
        public var depth: Int
        public var name: String
        public var size: Int64
        public var haveSize: Int64
        /// nil when the files below differ.
        public var priority: FilePriority?
        /// The snapshot's indices of the file, or of every file below the folder.
        public var files: [Int]
    }

    public let rows: [Row]

    public init(files: [FileSnapshot], collapsed: Set<String> = []) {
        var nodes = [Node(name: "", path: "")]
        for (index, file) in files.enumerated() {
            var node = 0
            // A single-file torrent's name may hold no "/"; empty parts (a stray "//") are dropped.
            let parts = file.path.split(separator: "/")
            for part in parts.dropLast() {
                let name = String(part)
                if let child = nodes[node].folderByName[name] {
                    node = child
                } else {
                    let path = nodes[node].path.isEmpty ? name : nodes[node].path + "/" + name
                    nodes.append(Node(name: name, path: path))
                    nodes[node].folderByName[name] = nodes.count - 1
                    nodes[node].folders.append(nodes.count - 1)
                    node = nodes.count - 1
                }
            }
            nodes[node].files.append(index)
        }
        var rows: [Row] = []
        _ = Self.emit(0, depth: -1, nodes: nodes, files: files, collapsed: collapsed, into: &rows)
        self.rows = rows
    }

    private struct Node {
        var name: String
        var path: String
        var folders: [Int] = []
        var folderByName: [String: Int] = [:]
        var files: [Int] = []
    }

    /// Appends the node's row (not for the root) and, unless it is collapsed, its contents';
    /// returns the row describing the whole node.
    private static func emit(_ node: Int, depth: Int, nodes: [Node], files: [FileSnapshot], collapsed: Set<String>,
                             into rows: inout [Row]) -> Row {
        let isRoot = node == 0
        let folded = !isRoot && collapsed.contains(nodes[node].path)
        var summary = Row(folder: nodes[node].path, collapsed: folded, depth: depth, name: nodes[node].name, size: 0, haveSize: 0,
                          priority: nil, files: [])
        let placeholder = rows.count
        if !isRoot { rows.append(summary) }
        var below: [Row] = []
        var priorities = Set<FilePriority>()
        var mixed = false
        for child in nodes[node].folders {
            let row = emit(child, depth: depth + 1, nodes: nodes, files: files, collapsed: collapsed, into: &below)
            summary.size += row.size
            summary.haveSize += row.haveSize
            summary.files += row.files
            if let priority = row.priority { priorities.insert(priority) } else { mixed = true }
        }
        for index in nodes[node].files {
            let file = files[index]
            let name = file.path.split(separator: "/").last.map(String.init) ?? file.path
            below.append(Row(folder: nil, collapsed: false, depth: depth + 1, name: name, size: file.size, haveSize: file.haveSize,
                             priority: file.priority, files: [index]))
            summary.size += file.size
            summary.haveSize += file.haveSize
            summary.files.append(index)
            priorities.insert(file.priority)
        }
        summary.priority = !mixed && priorities.count == 1 ? priorities.first : nil
        if !isRoot { rows[placeholder] = summary }
        if !folded { rows += below }
        return summary
    }

    /// The priorities of every file after `+` (step 1) or `-` (step -1) on `row`: each file below
    /// it one level up or down, so a mixed folder keeps its differences until they reach the end.
    public static func stepped(_ priorities: [FilePriority], row: Row, by step: Int) -> [FilePriority] {
        var out = priorities
        for index in row.files where out.indices.contains(index) { out[index] = out[index].stepped(by: step) }
        return out
    }

    /// After `x` on `row`: all skipped if any file below is wanted, else all back at normal.
    public static func toggledSkip(_ priorities: [FilePriority], row: Row) -> [FilePriority] {
        var out = priorities
        let anyWanted = row.files.contains { out.indices.contains($0) && out[$0] != .skip }
        for index in row.files where out.indices.contains(index) { out[index] = anyWanted ? .skip : .normal }
        return out
    }
}

extension FilePriority {
    /// The word the Files tab shows.
    public var label: String {
        switch self {
        case .skip: "skip"
        case .low: "low"
        case .normal: "normal"
        case .high: "high"
        }
    }
}
