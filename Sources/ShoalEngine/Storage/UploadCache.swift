import ShoalCore
import Synchronization

/// The last few whole pieces read for uploading, shared by a torrent's connections.
///
/// Peers ask for a piece's blocks one after another; reading the whole piece once and serving
/// the rest from memory turns 64 thread-pool reads per 1 MiB piece into one.
final class UploadCache: Sendable {
    private struct Entry {
        let piece: Int
        let data: [UInt8]
    }

    private let entries = Mutex<[Entry]>([])
    let capacity: Int

    init(capacity: Int = 8) {
        self.capacity = capacity
    }

    func block(_ block: BlockRequest) -> ArraySlice<UInt8>? {
        entries.withLock { entries in
            guard let index = entries.firstIndex(where: { $0.piece == block.piece.value }) else { return nil }
            let entry = entries.remove(at: index)
            entries.append(entry)  // most recently used last
            return entry.data[block.offset..<block.offset + block.length]
        }
    }

    func insert(piece: PieceIndex, data: [UInt8]) {
        entries.withLock { entries in
            entries.removeAll { $0.piece == piece.value }
            entries.append(Entry(piece: piece.value, data: data))
            if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
        }
    }
}
