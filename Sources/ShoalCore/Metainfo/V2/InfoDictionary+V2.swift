/// A v2 torrent's files (BEP 52) beside what the rest of Shoal reads: the byte stream of a
/// v1 torrent. A v2-only torrent's files are laid out one after another, each starting a new
/// piece — the gaps are padding files (BEP 47), as libtorrent lays them out — so pieces, blocks
/// and storage work as for a v1 torrent with padding.
public struct V2Files: Sendable {
    public let files: [V2File]
    /// No v1 half: pieces are checked by their hash trees (see `V2PieceHashes`).
    public let isOnly: Bool
}

extension InfoDictionary {
    /// The `file tree` when `meta version` is 2; nil for a v1 torrent.
    static func v2Files(_ node: BencodeNode) throws(MetainfoError) -> [V2File]? {
        guard let versionNode = node["meta version"] else { return nil }
        guard let version = versionNode.integer else {
            throw MetainfoError("'meta version' must be an integer", at: versionNode.range.lowerBound)
        }
        guard version == 1 || version == 2 else {
            throw MetainfoError("unknown meta version \(version) (Shoal reads versions 1 and 2)", at: versionNode.range.lowerBound)
        }
        guard version == 2 else { return nil }
        guard let tree = node["file tree"] else { throw MetainfoError("a v2 torrent without 'file tree'", at: node.range.lowerBound) }
        return try FileTree.files(tree)
    }

    /// The most pieces a v2-only torrent may have, as libtorrent's limit: nothing bounds them but
    /// the lengths it states (a v1 torrent's are bounded by its `pieces` string), and each costs
    /// memory for its hash.
    public static let maxV2Pieces = 1 << 21

    /// Refuses a v2-only torrent whose stated sizes would make an absurd byte stream: over
    /// 2^50 bytes (as a v1 torrent's limit), or more than `maxV2Pieces` pieces.
    static func checkV2Size(_ v2: [V2File], pieceLength: Int64, at offset: Int) throws(MetainfoError) {
        var pieces: Int64 = 0
        for file in v2 {
            // Each step stays far from overflow: a file is at most 2^50, and so is the sum so far.
            guard file.length <= Int64(1) << 50 else { throw MetainfoError("total size is too large", at: offset) }
            pieces += (file.length + pieceLength - 1) / pieceLength
            guard pieces * pieceLength <= Int64(1) << 50 else { throw MetainfoError("total size is too large", at: offset) }
        }
        guard pieces <= Int64(maxV2Pieces) else {
            throw MetainfoError("too many pieces (\(pieces)); Shoal reads up to \(maxV2Pieces) in a v2 torrent", at: offset)
        }
    }

    /// A v2-only torrent's files as a v1 byte stream: padding after each file that does not end
    /// on a piece boundary, the last too — libtorrent's layout, so the last piece is whole and a
    /// peer may ask for its padding. One file named as the torrent is a single-file torrent.
    static func v2Layout(_ v2: [V2File], name: [UInt8], pieceLength: Int64) -> (files: [TorrentFile], total: Int64, isSingleFile: Bool) {
        let single = v2.count == 1 && v2[0].path == [name]
        let paths = single ? [[PathSanitizer.component(name) ?? name]]
            : PathSanitizer.resolveCollisions(v2.map { PathSanitizer.path($0.path) }, skip: v2.map { _ in false })
        var files: [TorrentFile] = []
        var total: Int64 = 0
        for (index, file) in v2.enumerated() {
            files.append(TorrentFile(diskPath: paths[index], length: file.length, offset: total))
            total += file.length
            let gap = (pieceLength - total % pieceLength) % pieceLength
            if gap > 0 {
                files.append(TorrentFile(diskPath: [Array(".pad".utf8), Array(String(gap).utf8)], length: gap, offset: total, isPadding: true))
                total += gap
            }
        }
        return (files, total, single)
    }

    /// A hybrid torrent's halves must describe the same files (libtorrent refuses it otherwise):
    /// the same paths and lengths in the same order, each file starting a piece.
    static func checkHalvesAgree(v1 files: [TorrentFile], rawPaths: [[[UInt8]]?], v2: [V2File], pieceLength: Int64,
                                 at offset: Int) throws(MetainfoError) {
        func refuse(_ why: String) -> MetainfoError { MetainfoError("the v1 and v2 halves of this hybrid torrent disagree: \(why)", at: offset) }
        let v1 = zip(files, rawPaths).compactMap { file, raw in raw.map { (file: file, path: $0) } }
        guard v1.count == v2.count else { throw refuse("\(v1.count) files against \(v2.count)") }
        // A single-file v1 half names its file by the torrent's name; its v2 file is `[name]`.
        for (one, two) in zip(v1, v2) {
            guard one.path == two.path else {
                throw refuse("'\(PathSanitizer.display(one.path.last ?? []))' against '\(PathSanitizer.display(two.path.last ?? []))'")
            }
            guard one.file.length == two.length else { throw refuse("'\(one.file.displayPath)' is \(one.file.length) bytes against \(two.length)") }
            guard one.file.length == 0 || one.file.offset % pieceLength == 0 else {
                throw refuse("'\(one.file.displayPath)' does not start a piece")
            }
        }
    }
}
