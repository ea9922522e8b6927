import Dispatch
import ShoalCore
import Synchronization

/// The hash trees of a v2 or hybrid torrent's files (BEP 52): SHA-256 of every 16 KiB block,
/// hashed up to each piece's node (the file's piece layer) and to the file's root. Files are
/// shared out among the threads; each streams its files from disk.
public enum V2PieceHasher {
    public static func hash(
        _ files: [ContentLayout.File], pieceLength: Int, threads: Int,
        progress: (@Sendable (_ bytesDone: Int64) -> Void)? = nil
    ) throws(PieceHashingError) -> [MetainfoBuilder.V2Entry] {
        let result = Mutex<(entries: [MetainfoBuilder.V2Entry?], error: String?)>(
            (Array(repeating: nil, count: files.count), nil))
        let done = Atomic<Int64>(0)
        let workers = max(1, min(threads, files.count))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for index in stride(from: worker, to: files.count, by: workers) {
                do throws(PieceHashingError) {
                    let entry = try hashFile(files[index], pieceLength: pieceLength) { bytes in
                        progress?(done.add(Int64(bytes), ordering: .relaxed).newValue)
                    }
                    result.withLock { $0.entries[index] = entry }
                } catch {
                    result.withLock { $0.error = $0.error ?? error.description }
                    return
                }
            }
        }
        let (entries, failure) = result.withLock { ($0.entries, $0.error) }
        if let failure { throw PieceHashingError(description: failure) }
        return entries.map { $0! }
    }

    private static func hashFile(_ file: ContentLayout.File, pieceLength: Int,
                                 read: (Int) -> Void) throws(PieceHashingError) -> MetainfoBuilder.V2Entry {
        guard file.length > 0 else { return MetainfoBuilder.V2Entry(rawPath: file.rawPath, length: 0, piecesRoot: nil, pieceLayer: []) }
        let geometry = TorrentGeometry(totalLength: file.length, pieceLength: pieceLength, fileLengths: [file.length])
        var reader = StreamReader(geometry: geometry, paths: [file.diskPath])
        defer { reader.close() }
        let blocksPerPiece = pieceLength / MerkleTree.blockSize
        var layer: [[UInt8]] = []
        var leaves: [[UInt8]] = []  // of the piece being read
        var pending: [UInt8] = []   // a block split across reads
        for value in 0..<geometry.pieceCount {
            let piece = geometry.piece(value)!
            try reader.read(offset: geometry.offset(of: piece), length: geometry.length(of: piece)) { chunk in
                var rest = chunk[...]
                while !rest.isEmpty {
                    let take = min(MerkleTree.blockSize - pending.count, rest.count)
                    pending += rest.prefix(take)
                    rest = rest.dropFirst(take)
                    if pending.count == MerkleTree.blockSize {
                        leaves.append(MerkleTree.hash(pending))
                        pending.removeAll(keepingCapacity: true)
                    }
                }
                read(chunk.count)
            }
            if !pending.isEmpty {
                leaves.append(MerkleTree.hash(pending))  // the file's last, short block
                pending.removeAll(keepingCapacity: true)
            }
            // A file of one piece is its own root over its blocks rounded up to a power of two;
            // a larger one's pieces each span `blocksPerPiece` leaves.
            let width = geometry.pieceCount == 1 ? MerkleTree.leaves(forLength: file.length) : blocksPerPiece
            layer.append(MerkleTree.root(leaves, width: width, pad: MerkleTree.zero))
            leaves.removeAll(keepingCapacity: true)
        }
        if layer.count == 1 {
            return MetainfoBuilder.V2Entry(rawPath: file.rawPath, length: file.length, piecesRoot: layer[0], pieceLayer: [])
        }
        return MetainfoBuilder.V2Entry(rawPath: file.rawPath, length: file.length,
                                       piecesRoot: MerkleTree.root(pieceLayer: layer, blocksPerPiece: blocksPerPiece),
                                       pieceLayer: Array(layer.joined()))
    }
}
