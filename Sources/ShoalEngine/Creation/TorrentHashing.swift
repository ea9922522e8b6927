import ShoalCore
import Synchronization

/// Hashes scanned content into a torrent's builder, v1, v2 or hybrid (what `shoal create` and
/// the tests' torrents are made of): v2 and hybrid files in the file tree's order, a hybrid's
/// v1 files each padded to a piece (the padding hashed as zeros), SHA-256 trees per file.
public enum TorrentHashing {
    /// Bytes read for `version` (a hybrid reads its content twice): a progress bar's total.
    public static func bytesToHash(_ layout: ContentLayout, pieceLength: Int, version: MetainfoBuilder.MetaVersion) -> Int64 {
        let v1 = version == .v2 ? 0 : v1Half(layout, pieceLength: pieceLength, version: version).stream.reduce(0) { $0 + $1.length }
        return v1 + (version == .v1 ? 0 : layout.totalLength)
    }

    /// The builder for `layout` (its name, files, hashes and trees); `progress` gets the bytes
    /// hashed so far, over both passes of a hybrid.
    public static func builder(_ layout: ContentLayout, pieceLength: Int, version: MetainfoBuilder.MetaVersion, threads: Int,
                               progress: (@Sendable (Int64) -> Void)? = nil) throws(PieceHashingError) -> MetainfoBuilder {
        let layout = version == .v1 ? layout : layout.inV2Order()
        let (v1Files, stream) = v1Half(layout, pieceLength: pieceLength, version: version)
        let v1Done = Atomic<Int64>(0)
        let report = progress.map { progress in { @Sendable (done: Int64) in progress(done + v1Done.load(ordering: .relaxed)) } }
        let hashes = version == .v2 ? [] : try PieceHasher.hash(stream: stream, pieceLength: pieceLength, threads: threads, progress: report)
        v1Done.store(stream.reduce(0) { $0 + $1.length }, ordering: .relaxed)
        var builder = MetainfoBuilder(name: layout.name, files: layout.isSingleFile ? nil : v1Files, length: layout.totalLength,
                                      pieceLength: pieceLength, pieceHashes: hashes)
        builder.metaVersion = version
        if version != .v1 { builder.v2Files = try V2PieceHasher.hash(layout.files, pieceLength: pieceLength, threads: threads, progress: report) }
        return builder
    }

    /// The v1 half of `layout` (in the order it will have): its files, for a hybrid each followed
    /// by padding, and the byte stream they make (nil: padding, read as zeros).
    private static func v1Half(_ layout: ContentLayout, pieceLength: Int, version: MetainfoBuilder.MetaVersion)
        -> (files: [MetainfoBuilder.Entry], stream: [(path: DiskPath?, length: Int64)]) {
        let entries = layout.files.map { MetainfoBuilder.Entry(rawPath: $0.rawPath, length: $0.length) }
        guard version == .hybrid && !layout.isSingleFile else { return (entries, layout.files.map { ($0.diskPath, $0.length) }) }
        let padded = MetainfoBuilder.paddedFiles(entries, pieceLength: pieceLength)
        var paths = layout.files.map(\.diskPath).makeIterator()
        return (padded, padded.map { (path: $0.isPadding ? nil : paths.next(), length: $0.length) })
    }
}
