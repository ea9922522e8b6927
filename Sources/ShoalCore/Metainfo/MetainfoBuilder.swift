/// Writes a .torrent from content already laid out and hashed. Pure: the caller reads the files.
///
/// The `info` dictionary holds only what BEP 3 defines (plus `private`), so the same content,
/// piece length and layout give the same info-hash as mktorrent and libtorrent.
public struct MetainfoBuilder: Sendable {
    public struct Entry: Sendable, Hashable {
        /// Path components as bytes: a name read from a directory need not be UTF-8, and is
        /// kept exactly (so the info-hash matches mktorrent's).
        public var rawPath: [[UInt8]]
        public var length: Int64
        /// BEP 47 padding (a hybrid torrent's files each start a piece): `attr` "p".
        public var isPadding = false
        public init(path: [String], length: Int64) {
            self.init(rawPath: path.map { Array($0.utf8) }, length: length)
        }
        public init(rawPath: [[UInt8]], length: Int64, isPadding: Bool = false) {
            self.rawPath = rawPath
            self.length = length
            self.isPadding = isPadding
        }
    }

    public var name: String
    /// `nil` for a single-file torrent; otherwise the files in stream order.
    public var files: [Entry]?
    public var length: Int64
    public var pieceLength: Int
    public var pieceHashes: [UInt8]
    public var trackerTiers: [[String]] = []
    public var isPrivate = false
    public var comment: String?
    public var createdBy: String?
    public var creationDate: Int64?
    /// Web seeds (BEP 19 `url-list`).
    public var webSeeds: [String] = []
    /// v1 (the default), v2 only or hybrid (BEP 52); v2 and hybrid need `v2Files`.
    public var metaVersion = MetaVersion.v1
    /// The files with their hash trees, in the file tree's order.
    public var v2Files: [V2Entry] = []

    public init(name: String, files: [Entry]?, length: Int64, pieceLength: Int, pieceHashes: [UInt8]) {
        self.name = name
        self.files = files
        self.length = length
        self.pieceLength = pieceLength
        self.pieceHashes = pieceHashes
    }

    public var infoValue: BencodeValue {
        var info: [String: BencodeValue] = [
            "name": .string(name),
            "piece length": .integer(Int64(pieceLength)),
        ]
        if metaVersion != .v2 {
            info["pieces"] = .bytes(pieceHashes)
            if let files {
                info["files"] = .list(files.map { entry in
                    var fields: [String: BencodeValue] = ["length": .integer(entry.length), "path": .list(entry.rawPath.map { .bytes($0) })]
                    if entry.isPadding { fields["attr"] = .string("p") }
                    return .dict(fields)
                })
            } else {
                info["length"] = .integer(length)
            }
        }
        if metaVersion != .v1 {
            info["meta version"] = .integer(2)
            info["file tree"] = Self.fileTree(v2Files, singleName: files == nil ? Array(name.utf8) : nil)
        }
        if isPrivate { info["private"] = .integer(1) }
        return .dict(info)
    }

    public func encoded() -> [UInt8] {
        var root = Self.outerFields(trackerTiers: trackerTiers, comment: comment, createdBy: createdBy,
                                    creationDate: creationDate)
        if !webSeeds.isEmpty { root["url-list"] = .list(webSeeds.map { .string($0) }) }
        let layers = v2Files.filter { !$0.pieceLayer.isEmpty }
        if metaVersion != .v1 && !layers.isEmpty {
            root["piece layers"] = .dictionary(Dictionary(layers.map { ($0.piecesRoot!, BencodeValue.bytes($0.pieceLayer)) },
                                                          uniquingKeysWith: { first, _ in first }))
        }
        root["info"] = infoValue
        return BencodeEncoder.encode(.dict(root))
    }

    /// The keys of a .torrent outside `info`: `announce` (and `announce-list` when there is more
    /// than one tracker), comment, created by, creation date.
    static func outerFields(trackerTiers: [[String]], comment: String?, createdBy: String?,
                            creationDate: Int64?) -> [String: BencodeValue] {
        var root: [String: BencodeValue] = [:]
        let tiers = trackerTiers.filter { !$0.isEmpty }
        if let first = tiers.first?.first { root["announce"] = .string(first) }
        if tiers.count > 1 || (tiers.first?.count ?? 0) > 1 {
            root["announce-list"] = .list(tiers.map { .list($0.map { .string($0) }) })
        }
        if let comment { root["comment"] = .string(comment) }
        if let createdBy { root["created by"] = .string(createdBy) }
        if let creationDate { root["creation date"] = .integer(creationDate) }
        return root
    }

    /// Aims at 1,000–2,000 pieces, clamped to 16 KiB…16 MiB: small enough to verify and share
    /// early, large enough that the piece list stays small.
    public static func automaticPieceLength(totalLength: Int64) -> Int {
        var length = InfoDictionary.minPieceLength
        while length < 16 << 20 && totalLength / Int64(length) > 2000 { length *= 2 }
        return length
    }
}
