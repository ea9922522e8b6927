/// The shape of a torrent's byte stream: pieces, 16 KiB blocks and the files they fall in.
///
/// Every `PieceIndex` and `BlockRequest` is made here, after a check against this geometry, so
/// code that holds one never needs to check bounds again.
public struct TorrentGeometry: Sendable, Hashable {
    public static let blockLength = 16 << 10

    public let totalLength: Int64
    public let pieceLength: Int
    public let pieceCount: Int
    public let fileLengths: [Int64]
    /// Start of each file in the stream; `fileOffsets[i] + fileLengths[i]` is its end.
    public let fileOffsets: [Int64]

    public init(totalLength: Int64, pieceLength: Int, fileLengths: [Int64]) {
        precondition(totalLength > 0 && pieceLength > 0)
        self.totalLength = totalLength
        self.pieceLength = pieceLength
        self.pieceCount = Int((totalLength + Int64(pieceLength) - 1) / Int64(pieceLength))
        self.fileLengths = fileLengths
        var offsets: [Int64] = []
        var running: Int64 = 0
        for length in fileLengths {
            offsets.append(running)
            running += length
        }
        self.fileOffsets = offsets
    }

    /// A piece index if `value` names a piece of this torrent.
    public func piece(_ value: Int) -> PieceIndex? {
        guard value >= 0 && value < pieceCount else { return nil }
        return PieceIndex(uncheckedValue: value)
    }

    public var allPieces: [PieceIndex] { (0..<pieceCount).map { PieceIndex(uncheckedValue: $0) } }

    /// Bytes in a piece: `pieceLength`, except a shorter last piece.
    public func length(of piece: PieceIndex) -> Int {
        if piece.value == pieceCount - 1 {
            return Int(totalLength - Int64(pieceLength) * Int64(pieceCount - 1))
        }
        return pieceLength
    }

    public func offset(of piece: PieceIndex) -> Int64 { Int64(piece.value) * Int64(pieceLength) }

    public func blockCount(of piece: PieceIndex) -> Int {
        (length(of: piece) + Self.blockLength - 1) / Self.blockLength
    }

    /// The n-th 16 KiB block of a piece (the last one may be shorter).
    public func block(_ number: Int, of piece: PieceIndex) -> BlockRequest {
        precondition(number >= 0 && number < blockCount(of: piece))
        let offset = number * Self.blockLength
        return BlockRequest(piece: piece, offset: offset, length: min(Self.blockLength, length(of: piece) - offset))
    }

    public func blocks(of piece: PieceIndex) -> [BlockRequest] {
        (0..<blockCount(of: piece)).map { block($0, of: piece) }
    }

    /// A request a peer made or a block it sent, if it lies inside one piece and is at most
    /// `maxLength` long (peers may ask for blocks other than our 16 KiB grid).
    public func request(piece value: Int, offset: Int, length: Int, maxLength: Int = blockLength) -> BlockRequest? {
        guard let piece = piece(value), offset >= 0, length > 0, length <= maxLength,
            offset <= self.length(of: piece) - length
        else { return nil }
        return BlockRequest(piece: piece, offset: offset, length: length)
    }

    /// The parts of files that a range of the stream covers, in stream order.
    public func fileSpans(offset: Int64, length: Int) -> [FileSpan] {
        precondition(offset >= 0 && length >= 0 && offset + Int64(length) <= totalLength)
        var spans: [FileSpan] = []
        var position = offset
        let end = offset + Int64(length)
        var file = fileIndex(containing: offset)
        while position < end && file < fileLengths.count {
            let fileEnd = fileOffsets[file] + fileLengths[file]
            if fileEnd > position {
                let take = min(end, fileEnd) - position
                spans.append(FileSpan(file: file, offsetInFile: position - fileOffsets[file],
                                      length: Int(take), offsetInRange: Int(position - offset)))
                position += take
            }
            file += 1
        }
        return spans
    }

    public func fileSpans(of piece: PieceIndex) -> [FileSpan] {
        fileSpans(offset: offset(of: piece), length: length(of: piece))
    }

    /// The pieces that hold at least one byte of a file (none for an empty file).
    public func pieces(ofFile file: Int) -> Range<Int> {
        let start = fileOffsets[file]
        let length = fileLengths[file]
        guard length > 0 else { return 0..<0 }
        let first = Int(start / Int64(pieceLength))
        let last = Int((start + length - 1) / Int64(pieceLength))
        return first..<last + 1
    }

    /// The first non-empty file whose range holds `offset` (binary search).
    func fileIndex(containing offset: Int64) -> Int {
        var low = 0
        var high = fileLengths.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if fileOffsets[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        // Zero-length files share their offset with the next file; step back to the first of them
        // then let the span loop skip the empty ones.
        while low > 0 && fileOffsets[low - 1] == fileOffsets[low] { low -= 1 }
        return low
    }
}

/// The index of a piece that exists in some torrent. Made only by `TorrentGeometry`.
public struct PieceIndex: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let value: Int

    init(uncheckedValue: Int) { self.value = uncheckedValue }

    public static func < (lhs: PieceIndex, rhs: PieceIndex) -> Bool { lhs.value < rhs.value }
    public var description: String { "#\(value)" }
}

/// A block inside one piece. Made only by `TorrentGeometry`, so always in bounds.
public struct BlockRequest: Sendable, Hashable, CustomStringConvertible {
    public let piece: PieceIndex
    public let offset: Int
    public let length: Int

    public var description: String { "\(piece)+\(offset)/\(length)" }
}

/// A part of one file covered by a range of the torrent's stream.
public struct FileSpan: Sendable, Hashable {
    public let file: Int
    public let offsetInFile: Int64
    public let length: Int
    /// Where this span starts within the requested range.
    public let offsetInRange: Int
}
