/// Making v2 and hybrid torrents (BEP 52) as libtorrent 2.0 makes them, so the info-hashes match:
/// files in the file tree's order (by path, component by component), a hybrid's v1 files each
/// followed by padding to the next piece (the last one too, unless it is the only file).
extension MetainfoBuilder {
    public enum MetaVersion: Sendable, Equatable { case v1, v2, hybrid }

    /// One file of a v2 or hybrid torrent with its hash tree.
    public struct V2Entry: Sendable, Hashable {
        public var rawPath: [[UInt8]]
        public var length: Int64
        /// nil for an empty file.
        public var piecesRoot: [UInt8]?
        /// Its piece layer, for a file larger than a piece (empty otherwise).
        public var pieceLayer: [UInt8]

        public init(rawPath: [[UInt8]], length: Int64, piecesRoot: [UInt8]?, pieceLayer: [UInt8]) {
            self.rawPath = rawPath
            self.length = length
            self.piecesRoot = piecesRoot
            self.pieceLayer = pieceLayer
        }
    }

    /// The file tree's order: by path, component by component, bytes compared.
    public static func v2Order(_ a: [[UInt8]], _ b: [[UInt8]]) -> Bool {
        for (x, y) in zip(a, b) where x != y { return x.lexicographicallyPrecedes(y) }
        return a.count < b.count
    }

    /// A hybrid's v1 files: each followed by padding to a piece boundary; the last too, unless
    /// it is the only file (a single-file torrent has no `files`).
    public static func paddedFiles(_ files: [Entry], pieceLength: Int) -> [Entry] {
        var out: [Entry] = []
        for file in files {
            out.append(file)
            let gap = (Int64(pieceLength) - file.length % Int64(pieceLength)) % Int64(pieceLength)
            if gap > 0 && file.length > 0 {
                out.append(Entry(rawPath: [Array(".pad".utf8), Array(String(gap).utf8)], length: gap, isPadding: true))
            }
        }
        return out
    }

    /// `file tree`: directories as dictionaries, each file as `{"": {length, pieces root}}`;
    /// a single-file torrent's one file is named as the torrent.
    static func fileTree(_ entries: [V2Entry], singleName: [UInt8]?) -> BencodeValue {
        var root: [[UInt8]: BencodeValue] = [:]
        for entry in entries {
            var leaf: [[UInt8]: BencodeValue] = [Array("length".utf8): .integer(entry.length)]
            if let piecesRoot = entry.piecesRoot { leaf[Array("pieces root".utf8)] = .bytes(piecesRoot) }
            let path = singleName.map { [$0] } ?? entry.rawPath
            insert(.dictionary([[]: .dictionary(leaf)]), at: path[...], into: &root)
        }
        return .dictionary(root)
    }

    private static func insert(_ file: BencodeValue, at path: ArraySlice<[UInt8]>, into node: inout [[UInt8]: BencodeValue]) {
        guard let first = path.first else { return }
        if path.count == 1 {
            node[first] = file
            return
        }
        var child = node[first]?.dictionary ?? [:]
        insert(file, at: path.dropFirst(), into: &child)
        node[first] = .dictionary(child)
    }
}
