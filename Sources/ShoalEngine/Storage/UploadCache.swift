import NIOCore
import ShoalCore
import Synchronization

/// The last chunks of pieces read for uploading, shared by a torrent's connections.
///
/// Peers ask for a piece's blocks one after another; reading 128 KiB at once and serving the
/// next blocks from memory turns eight thread-pool reads into one. Chunks, not whole pieces:
/// with hundreds of peers each in a different piece, a whole-piece cache would read up to a
/// piece (1 MiB or more) for every 16 KiB block it sends. Chunks are `ByteBuffer`s, so a block
/// goes to the socket as a slice of one, not a copy.
final class UploadCache: Sendable {
    static let chunkLength = 128 << 10

    struct Key: Hashable {
        let piece: Int
        let chunk: Int
    }

    private struct Entry {
        let key: Key
        let data: ByteBuffer
    }

    private let entries = Mutex<[Entry]>([])
    let capacity: Int

    init(capacity: Int = 64) {
        self.capacity = capacity
    }

    /// The chunk holding `block`, as a range of the torrent, or nil for a block that crosses
    /// a chunk boundary (only an odd request does; it is read alone).
    static func chunk(of block: BlockRequest, geometry: TorrentGeometry) -> (key: Key, offset: Int64, length: Int)? {
        let chunk = block.offset / chunkLength
        guard (block.offset + block.length - 1) / chunkLength == chunk else { return nil }
        let start = chunk * chunkLength
        let length = min(chunkLength, geometry.length(of: block.piece) - start)
        return (Key(piece: block.piece.value, chunk: chunk), geometry.offset(of: block.piece) + Int64(start), length)
    }

    func block(_ block: BlockRequest, in key: Key) -> ByteBuffer? {
        entries.withLock { entries in
            guard let index = entries.lastIndex(where: { $0.key == key }) else { return nil }
            let entry = entries[index]
            if index != entries.count - 1 {
                entries.remove(at: index)
                entries.append(entry)  // most recently used last
            }
            return Self.slice(block, of: entry.data, key: key)
        }
    }

    /// The block's bytes within its chunk's data (a slice, not a copy).
    static func slice(_ block: BlockRequest, of data: ByteBuffer, key: Key) -> ByteBuffer? {
        data.getSlice(at: data.readerIndex + block.offset - key.chunk * chunkLength, length: block.length)
    }

    func insert(_ key: Key, data: ByteBuffer) {
        entries.withLock { entries in
            entries.removeAll { $0.key == key }
            entries.append(Entry(key: key, data: data))
            if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
        }
    }
}
