import Crypto

/// One file of a torrent, placed in the torrent's byte stream.
public struct TorrentFile: Sendable, Hashable {
    /// Path components below the torrent's root directory as shown (a single-file torrent has
    /// `[name]`), from `diskPath`.
    public let path: [String]
    /// The same components as written on disk: sanitized bytes (see `PathSanitizer`), which
    /// need not be UTF-8.
    public let diskPath: [[UInt8]]
    public let length: Int64
    /// Where the file starts in the concatenation of all files.
    public let offset: Int64
    /// BEP 47 padding file (`attr` contains "p", or BitComet's `_____padding_file_` names):
    /// never written to disk, reads as zeros.
    public let isPadding: Bool
    /// A BEP 47 symbolic link (`attr` contains "l"): holds no data and is not created.
    public let isSymlink: Bool

    public init(path: [String], length: Int64, offset: Int64, isPadding: Bool = false) {
        self.init(diskPath: path.map { Array($0.utf8) }, length: length, offset: offset, isPadding: isPadding)
    }

    public init(diskPath: [[UInt8]], length: Int64, offset: Int64, isPadding: Bool = false, isSymlink: Bool = false) {
        self.diskPath = diskPath
        self.path = diskPath.map(PathSanitizer.display)
        self.length = length
        self.offset = offset
        self.isPadding = isPadding
        self.isSymlink = isSymlink
    }

    public var displayPath: String { path.joined(separator: "/") }
    /// Padding and links: part of the byte stream, never a file on disk.
    public var isVirtual: Bool { isPadding || isSymlink }
}

/// The validated `info` dictionary.
public struct InfoDictionary: Sendable {
    public static let minPieceLength = 16 << 10
    /// Larger pieces only serve to make a peer buffer more; nothing real uses them.
    public static let maxPieceLength = 128 << 20

    /// The torrent's name as shown, and as the file or directory it becomes on disk (sanitized).
    public let name: String
    public let diskName: [UInt8]
    public let pieceLength: Int
    /// 20 bytes per piece, concatenated.
    public let pieceHashes: [UInt8]
    public let files: [TorrentFile]
    /// True when the torrent has `length` rather than `files`: the content is one file named `name`.
    public let isSingleFile: Bool
    public let isPrivate: Bool
    public let geometry: TorrentGeometry
    /// The v2 half (BEP 52; `meta version` 2): its files as its `file tree` lists them, and
    /// whether it is all there is (a v2-only torrent) or beside a v1 half it agrees with (hybrid).
    public let v2: V2Files?
    /// A v2 half's piece hashes, from the torrent's `piece layers` (outside `info`), set by
    /// `Metainfo`: how a v2-only torrent's pieces are checked, and what a hybrid (checked by
    /// SHA-1) answers hash requests from. nil for v1 torrents and when the layers are missing.
    public internal(set) var v2Pieces: V2PieceHashes?

    public var totalLength: Int64 { geometry.totalLength }
    public var pieceCount: Int { geometry.pieceCount }

    /// The expected SHA-1 of one piece.
    public func hash(of piece: PieceIndex) -> ArraySlice<UInt8> {
        pieceHashes[piece.value * 20..<piece.value * 20 + 20]
    }

    /// Whether `data`, the piece as stored, is the piece: by its SHA-1, or for a v2-only
    /// torrent by its hash tree. False for a v2-only torrent whose hashes are missing.
    public func pieceMatches(_ data: [UInt8], _ piece: PieceIndex) -> Bool {
        if v2?.isOnly == true { return v2Pieces?.matches(data, piece: piece) ?? false }
        return Array(Insecure.SHA1.hash(data: data)) == Array(hash(of: piece))
    }

    /// `fallbackName`: the name when the torrent's own is unusable (`..`, empty): libtorrent
    /// uses the info-hash, and so does Shoal.
    init(node: BencodeNode, fallbackName: String) throws(MetainfoError) {
        guard node.entries != nil else {
            throw MetainfoError("'info' must be a dictionary, found a \(node.kindName)", at: node.range.lowerBound)
        }
        let v2Files = try Self.v2Files(node)
        let isV2Only = v2Files != nil && node["pieces"] == nil && node["files"] == nil && node["length"] == nil
        let nameNode = node["name.utf-8"] ?? node["name"]
        guard let nameNode, let nameBytes = nameNode.bytes else {
            throw MetainfoError("missing 'name' in 'info'", at: node.range.lowerBound)
        }
        self.diskName = PathSanitizer.component(nameBytes) ?? Array(fallbackName.utf8)
        self.name = PathSanitizer.display(diskName)

        guard let lengthNode = node["piece length"], let pieceLength = lengthNode.integer else {
            throw MetainfoError("missing integer 'piece length' in 'info'", at: node.range.lowerBound)
        }
        // BEP 3 allows any piece length; blocks are 16 KiB, so any multiple of it is taken
        // (49,152 is met in the wild), up to a size no peer should have to buffer.
        guard pieceLength >= Int64(Self.minPieceLength), pieceLength % Int64(Self.minPieceLength) == 0 else {
            throw MetainfoError("piece length \(pieceLength) is not a multiple of 16 KiB", at: lengthNode.range.lowerBound)
        }
        guard pieceLength <= Int64(Self.maxPieceLength) else {
            throw MetainfoError("piece length \(pieceLength) is larger than Shoal's limit of 128 MiB", at: lengthNode.range.lowerBound)
        }
        self.pieceLength = Int(pieceLength)
        // v2 pieces are whole subtrees of 16 KiB blocks.
        if v2Files != nil, pieceLength & (pieceLength - 1) != 0 {
            throw MetainfoError("piece length \(pieceLength) of a v2 torrent is not a power of two", at: lengthNode.range.lowerBound)
        }

        if let privateValue = node["private"]?.integer {
            self.isPrivate = privateValue == 1
        } else {
            self.isPrivate = false
        }

        var files: [TorrentFile] = []
        var total: Int64 = 0
        // The v1 half's paths as the torrent spells them, to hold against the v2 half's.
        var rawPaths: [[[UInt8]]?] = []
        if isV2Only, let v2Files {
            try Self.checkV2Size(v2Files, pieceLength: pieceLength, at: node.range.lowerBound)
            let layout = Self.v2Layout(v2Files, name: nameBytes, pieceLength: pieceLength)
            files = layout.files
            total = layout.total
            self.isSingleFile = layout.isSingleFile
        } else if let filesNode = node["files"] {
            guard let list = filesNode.list else {
                throw MetainfoError("'files' must be a list", at: filesNode.range.lowerBound)
            }
            guard !list.isEmpty else { throw MetainfoError("'files' is empty", at: filesNode.range.lowerBound) }
            var entries: [(path: [[UInt8]], length: Int64, padding: Bool, symlink: Bool)] = []
            for fileNode in list {
                let at = fileNode.range.lowerBound
                guard fileNode.entries != nil else { throw MetainfoError("an entry of 'files' is not a dictionary", at: at) }
                let attributes = fileNode["attr"]?.bytes ?? []
                let symlink = attributes.contains(UInt8(ascii: "l"))
                // A link holds no data: its length may be missing (libtorrent writes none).
                var length: Int64 = 0
                if !symlink || fileNode["length"] != nil { length = try Self.length(fileNode) }
                var raw: [[UInt8]] = []
                if let pathNode = fileNode["path.utf-8"] ?? fileNode["path"] {
                    guard let parts = pathNode.list else { throw MetainfoError("a file's 'path' is not a list", at: pathNode.range.lowerBound) }
                    for part in parts {
                        guard let bytes = part.bytes else {
                            throw MetainfoError("a path component is not a byte string", at: part.range.lowerBound)
                        }
                        raw.append(bytes)
                    }
                }
                // BitComet's padding files carry no `attr`, only their name.
                let padding = attributes.contains(UInt8(ascii: "p"))
                    || raw.last.map { $0.starts(with: Array("_____padding_file_".utf8)) } == true
                guard padding || fileNode["path.utf-8"] != nil || fileNode["path"] != nil else {
                    throw MetainfoError("a file has no 'path' list", at: at)
                }
                // Padding needs no name (it is never on disk); others are sanitized, never refused.
                let path = padding && raw.isEmpty ? [Array(".pad".utf8), Array(String(length).utf8)] : PathSanitizer.path(raw)
                entries.append((path, length, padding, symlink && length == 0))
                rawPaths.append(padding ? nil : raw)
            }
            let paths = PathSanitizer.resolveCollisions(entries.map(\.path), skip: entries.map { $0.padding || $0.symlink })
            for (entry, path) in zip(entries, paths) {
                files.append(TorrentFile(diskPath: path, length: entry.length, offset: total, isPadding: entry.padding,
                                         isSymlink: entry.symlink))
                let (sum, overflow) = total.addingReportingOverflow(entry.length)
                guard !overflow, sum <= Int64(1) << 50 else { throw MetainfoError("total size is too large", at: filesNode.range.lowerBound) }
                total = sum
            }
            self.isSingleFile = false
        } else if node["length"] != nil {
            total = try Self.length(node)
            files = [TorrentFile(diskPath: [diskName], length: total, offset: 0)]
            rawPaths = [[nameBytes]]
            self.isSingleFile = true
        } else {
            throw MetainfoError("'info' has neither 'length' nor 'files'", at: node.range.lowerBound)
        }
        guard total > 0 else { throw MetainfoError("the torrent holds no data (total size 0)", at: node.range.lowerBound) }
        self.files = files
        self.v2 = v2Files.map { V2Files(files: $0, isOnly: isV2Only) }
        if isV2Only {
            self.pieceHashes = []
            self.geometry = TorrentGeometry(totalLength: total, pieceLength: Int(pieceLength), fileLengths: files.map(\.length))
            return
        }
        if let v2Files {
            try Self.checkHalvesAgree(v1: files, rawPaths: rawPaths, v2: v2Files, pieceLength: pieceLength, at: node.range.lowerBound)
        }

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
}
