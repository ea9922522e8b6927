import NIOCore
import ShoalCore
import Testing
@testable import ShoalEngine

@Suite("Upload cache")
struct UploadCacheTests {
    // 1 MiB pieces, the last one 300 KiB.
    let geometry = TorrentGeometry(totalLength: 3 * 1_048_576 + 300 * 1024, pieceLength: 1_048_576, fileLengths: [3 * 1_048_576 + 300 * 1024])

    func block(_ piece: Int, _ offset: Int, _ length: Int = 16384) -> BlockRequest {
        geometry.request(piece: piece, offset: offset, length: length)!
    }

    @Test func blocksMapToTheirChunk() throws {
        let first = try #require(UploadCache.chunk(of: block(1, 0), geometry: geometry))
        #expect(first.key == UploadCache.Key(piece: 1, chunk: 0) && first.offset == 1_048_576 && first.length == 131_072)
        let eighth = try #require(UploadCache.chunk(of: block(1, 7 * 16384), geometry: geometry))
        #expect(eighth.key == first.key)
        let ninth = try #require(UploadCache.chunk(of: block(1, 8 * 16384), geometry: geometry))
        #expect(ninth.key.chunk == 1 && ninth.offset == 1_048_576 + 131_072)
        // The last piece's last chunk is short: 300 KiB = 2 chunks + 44 KiB.
        let tail = try #require(UploadCache.chunk(of: block(3, 2 * 131_072), geometry: geometry))
        #expect(tail.length == 300 * 1024 - 2 * 131_072)
        // An odd request across a chunk boundary is read alone.
        #expect(UploadCache.chunk(of: block(1, 131_072 - 100, 200), geometry: geometry) == nil)
    }

    @Test func servesSlicesAndForgetsTheLeastRecentlyUsed() throws {
        let cache = UploadCache(capacity: 2)
        let a = try #require(UploadCache.chunk(of: block(0, 0), geometry: geometry)).key
        let b = try #require(UploadCache.chunk(of: block(0, 131_072), geometry: geometry)).key
        let c = try #require(UploadCache.chunk(of: block(2, 0), geometry: geometry)).key
        cache.insert(a, data: ByteBuffer(bytes: (0..<131_072).map { UInt8(truncatingIfNeeded: $0 / 16384) }))
        cache.insert(b, data: ByteBuffer(repeating: 9, count: 131_072))
        #expect(cache.block(block(0, 3 * 16384), in: a).map { Array($0.readableBytesView) } == [UInt8](repeating: 3, count: 16384))
        cache.insert(c, data: ByteBuffer(repeating: 7, count: 131_072))  // b was used least recently
        #expect(cache.block(block(0, 131_072), in: b) == nil)
        #expect(cache.block(block(0, 0), in: a) != nil)
        #expect(cache.block(block(2, 16384), in: c).map { Array($0.readableBytesView) } == [UInt8](repeating: 7, count: 16384))
    }
}
