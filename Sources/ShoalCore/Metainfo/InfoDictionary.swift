/// One file of a torrent, placed in the torrent's byte stream.
public struct TorrentFile: Sendable, Hashable {
    /// Path components below the torrent's root directory; a single-file torrent has `[name]`.
    public let path: [String]
    public let length: Int64
    /// Where the file starts in the concatenation of all files.
    public let offset: Int64
    /// BEP 47 padding file (`attr` contains "p"): never written to disk, reads as zeros.
    public let isPadding: Bool

    public init(path: [String], length: Int64, offset: Int64, isPadding: Bool = false) {
        self.path = path
        self.length = length
        self.offset = offset
        self.isPadding = isPadding
    }

    public var displayPath: String { path.joined(separator: "/") }
}

/// The validated `info` dictionary.
public struct InfoDictionary: Sendable {
    public static let minPieceLength = 16 << 10
    /// Larger pieces only serve to make a peer buffer more; nothing real uses them.
    public static let maxPieceLength = 128 << 20

    public let name: String
    public let pieceLength: Int
    /// 20 bytes per piece, concatenated.
    public let pieceHashes: [UInt8]
    public let files: [TorrentFile]
    /// True when the torrent has `length` rather than `files`: the content is one file named `name`.
    public let isSingleFile: Bool
    public let isPrivate: Bool
    public let geometry: TorrentGeometry

    public var totalLength: Int64 { geometry.totalLength }
    public var pieceCount: Int { geometry.pieceCount }

    /// The expected SHA-1 of one piece.
    public func hash(of piece: PieceIndex) -> ArraySlice<UInt8> {
        pieceHashes[piece.value * 20..<piece.value * 20 + 20]
    }

    init(node: BencodeNode) throws(MetainfoError) {
        guard node.entries != nil else {
            throw MetainfoError("'info' must be a dictionary, found a \(node.kindName)", at: node.range.lowerBound)
        }
        let nameNode = node["name.utf-8"] ?? node["name"]
        guard let nameNode, let nameBytes = nameNode.bytes else {
            throw MetainfoError("missing 'name' in 'info'", at: node.range.lowerBound)
        }
        try Self.checkComponent(nameBytes, what: "name", at: nameNode.range.lowerBound)
        self.name = String(decoding: nameBytes, as: UTF8.self)

        guard let lengthNode = node["piece length"], let pieceLength = lengthNode.integer else {
            throw MetainfoError("missing integer 'piece length' in 'info'", at: node.range.lowerBound)
        }
        guard pieceLength >= Int64(Self.minPieceLength), pieceLength <= Int64(Self.maxPieceLength),
            pieceLength & (pieceLength - 1) == 0
        else {
            throw MetainfoError(
                "piece length \(pieceLength) is not a power of two between 16 KiB and 128 MiB",
                at: lengthNode.range.lowerBound)
        }
        self.pieceLength = Int(pieceLength)

        if let privateValue = node["private"]?.integer {
            self.isPrivate = privateValue == 1
        } else {
            self.isPrivate = false
        }

        var files: [TorrentFile] = []
        var total: Int64 = 0
        if let filesNode = node["files"] {
            guard let list = filesNode.list else {
                throw MetainfoError("'files' must be a list", at: filesNode.range.lowerBound)
            }
            guard !list.isEmpty else { throw MetainfoError("'files' is empty", at: filesNode.range.lowerBound) }
            var seenPaths = Set<[String]>()
            for fileNode in list {
                let at = fileNode.range.lowerBound
                guard fileNode.entries != nil else { throw MetainfoError("an entry of 'files' is not a dictionary", at: at) }
                let length = try Self.length(fileNode)
                guard let pathNode = fileNode["path.utf-8"] ?? fileNode["path"], let parts = pathNode.list else {
                    throw MetainfoError("a file has no 'path' list", at: at)
                }
                guard !parts.isEmpty else { throw MetainfoError("a file has an empty 'path'", at: pathNode.range.lowerBound) }
                var path: [String] = []
                for part in parts {
                    guard let bytes = part.bytes else {
                        throw MetainfoError("a path component is not a byte string", at: part.range.lowerBound)
                    }
                    try Self.checkComponent(bytes, what: "path component", at: part.range.lowerBound)
                    path.append(String(decoding: bytes, as: UTF8.self))
                }
                let isPadding = (fileNode["attr"]?.bytes ?? []).contains(UInt8(ascii: "p"))
                if !isPadding {
                    guard seenPaths.insert(path).inserted else {
                        throw MetainfoError("duplicate file path '\(path.joined(separator: "/"))'", at: at)
                    }
                }
                files.append(TorrentFile(path: path, length: length, offset: total, isPadding: isPadding))
                let (sum, overflow) = total.addingReportingOverflow(length)
                guard !overflow, sum <= Int64(1) << 50 else { throw MetainfoError("total size is too large", at: at) }
                total = sum
            }
            // A file whose path is also a directory of another file ("a" and "a/b") cannot exist.
            var directories = Set<[String]>()
            for file in files where !file.isPadding {
                for depth in 1..<max(1, file.path.count) { directories.insert(Array(file.path.prefix(depth))) }
            }
            if let clash = files.first(where: { !$0.isPadding && directories.contains($0.path) }) {
                throw MetainfoError("'\(clash.path.joined(separator: "/"))' is both a file and a directory", at: filesNode.range.lowerBound)
            }
            self.isSingleFile = false
        } else if node["length"] != nil {
            total = try Self.length(node)
            files = [TorrentFile(path: [name], length: total, offset: 0)]
            self.isSingleFile = true
        } else {
            throw MetainfoError("'info' has neither 'length' nor 'files'", at: node.range.lowerBound)
        }
        guard total > 0 else { throw MetainfoError("the torrent holds no data (total size 0)", at: node.range.lowerBound) }
        self.files = files

        guard let piecesNode = node["pieces"], let pieces = piecesNode.bytes else {
            throw MetainfoError("missing byte string 'pieces' in 'info'", at: node.range.lowerBound)
        }
        let geometry = TorrentGeometry(totalLength: total, pieceLength: Int(pieceLength), fileLengths: files.map(\.length))
        guard pieces.count == geometry.pieceCount * 20 else {
            throw MetainfoError(
                "'pieces' holds \(pieces.count) bytes; \(geometry.pieceCount) pieces need \(geometry.pieceCount * 20)",
                at: piecesNode.range.lowerBound)
        }
        self.pieceHashes = pieces
        self.geometry = geometry
    }

    private static func length(_ node: BencodeNode) throws(MetainfoError) -> Int64 {
        guard let lengthNode = node["length"], let length = lengthNode.integer else {
            throw MetainfoError("missing integer 'length'", at: node.range.lowerBound)
        }
        guard length >= 0 else { throw MetainfoError("negative length \(length)", at: lengthNode.range.lowerBound) }
        return length
    }

    /// A file name must be a single, non-empty, relative component: anything else could write
    /// outside the download directory.
    static func checkComponent(_ bytes: [UInt8], what: String, at offset: Int) throws(MetainfoError) {
        let shown = String(decoding: bytes, as: UTF8.self)
        if bytes.isEmpty { throw MetainfoError("empty \(what)", at: offset) }
        if bytes == [UInt8(ascii: ".")] || bytes == [UInt8(ascii: "."), UInt8(ascii: ".")] {
            throw MetainfoError("\(what) '\(shown)' is not allowed", at: offset)
        }
        if bytes.contains(UInt8(ascii: "/")) {
            throw MetainfoError("\(what) '\(shown)' contains '/'", at: offset)
        }
        if bytes.contains(0) { throw MetainfoError("\(what) contains a NUL byte", at: offset) }
    }
}
