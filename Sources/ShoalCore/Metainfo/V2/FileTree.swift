/// One file of a v2 torrent's `file tree` (BEP 52), in the tree's order.
public struct V2File: Sendable, Hashable {
    /// Path components below the torrent's name as the torrent spells them (a single-file
    /// torrent's one file is `[name]`).
    public let path: [[UInt8]]
    public let length: Int64
    /// The root of the file's hash tree; nil for an empty file.
    public let piecesRoot: [UInt8]?
}

/// Reads a `file tree`: directories are dictionaries keyed by name, a file is a dictionary
/// whose only key is the empty string, mapping to its `length` and `pieces root`.
enum FileTree {
    static let maxDepth = 100

    static func files(_ node: BencodeNode) throws(MetainfoError) -> [V2File] {
        guard node.entries != nil else { throw MetainfoError("'file tree' must be a dictionary", at: node.range.lowerBound) }
        var files: [V2File] = []
        try walk(node, path: [], into: &files)
        guard !files.isEmpty else { throw MetainfoError("'file tree' holds no files", at: node.range.lowerBound) }
        return files
    }

    private static func walk(_ node: BencodeNode, path: [[UInt8]], into files: inout [V2File]) throws(MetainfoError) {
        guard path.count <= maxDepth else { throw MetainfoError("'file tree' is nested too deep", at: node.range.lowerBound) }
        guard let entries = node.entries else {
            throw MetainfoError("an entry of 'file tree' is not a dictionary", at: node.range.lowerBound)
        }
        if let file = entries.first(where: { $0.key.isEmpty }) {
            guard !path.isEmpty, entries.count == 1 else {
                throw MetainfoError("an entry of 'file tree' is both a file and a directory", at: node.range.lowerBound)
            }
            files.append(try Self.file(file.value, path: path))
            return
        }
        for entry in entries {
            try walk(entry.value, path: path + [entry.key], into: &files)
        }
    }

    private static func file(_ node: BencodeNode, path: [[UInt8]]) throws(MetainfoError) -> V2File {
        let at = node.range.lowerBound
        guard node.entries != nil else { throw MetainfoError("a file of 'file tree' is not a dictionary", at: at) }
        guard let length = node["length"]?.integer else { throw MetainfoError("a file of 'file tree' has no integer 'length'", at: at) }
        guard length >= 0 else { throw MetainfoError("a file of 'file tree' has negative length \(length)", at: at) }
        guard length > 0 else { return V2File(path: path, length: 0, piecesRoot: nil) }
        guard let root = node["pieces root"]?.bytes, root.count == 32, root != MerkleTree.zero else {
            throw MetainfoError("a v2 file has no 'pieces root' (32 bytes)", at: at)
        }
        return V2File(path: path, length: length, piecesRoot: root)
    }
}
