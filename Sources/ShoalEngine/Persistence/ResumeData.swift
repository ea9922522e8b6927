import Foundation
import ShoalCore

/// What lets a restart skip the full recheck: the verified pieces and, for each file, the size
/// and modification time it had when they were recorded. A file that changed since gets its
/// pieces checked again; nothing unverified is ever taken as done.
public struct ResumeData: Codable, Sendable, Equatable {
    public struct FileStamp: Codable, Sendable, Equatable {
        public var size: Int64
        public var modified: Int64  // nanoseconds since 1970
    }

    public var infoHash: String
    public var pieceCount: Int
    /// Verified pieces, as a hex bitfield.
    public var have: String
    public var files: [FileStamp?]

    public var bitfield: Bitfield? {
        Hex.decode(have).flatMap { Bitfield(bytes: $0, count: pieceCount) }
    }

    static func stamp(_ path: DiskPath) -> FileStamp? {
        guard let info = path.status() else { return nil }
        return FileStamp(size: Int64(info.st_size),
                         modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }

    static func make(infoHash: InfoHash, have: Bitfield, paths: [DiskPath]) -> ResumeData {
        ResumeData(infoHash: infoHash.hex, pieceCount: have.count, have: Hex.encode(have.bytes), files: paths.map(stamp))
    }

    /// What the record vouches for, piece by piece.
    struct Vouched: Sendable, Equatable {
        /// Recorded as verified, with every file they touch unchanged: present without hashing.
        var have: Bitfield
        /// Pieces whose every file is unchanged: their state (present or missing) is known
        /// without reading them. The others are hashed.
        var known: Bitfield
    }

    /// What may be believed without hashing. A file that is missing, resized or touched since
    /// the record was made vouches for none of its pieces. Nil when the data does not belong to
    /// this torrent.
    func vouched(geometry: TorrentGeometry, infoHash: InfoHash, paths: [DiskPath], padding: [Bool]) -> Vouched? {
        guard self.infoHash == infoHash.hex, pieceCount == geometry.pieceCount, files.count == paths.count,
            var trusted = bitfield
        else { return nil }
        var known = Bitfield(count: geometry.pieceCount, allSet: true)
        for (file, path) in paths.enumerated() where !padding[file] {
            let now = Self.stamp(path)
            let unchanged = now != nil && now == files[file]
            if !unchanged || (geometry.fileLengths[file] > 0 && now?.size != geometry.fileLengths[file]) {
                for piece in geometry.pieces(ofFile: file) {
                    trusted.clear(piece)
                    known.clear(piece)
                }
            }
        }
        return Vouched(have: trusted, known: known)
    }
}
