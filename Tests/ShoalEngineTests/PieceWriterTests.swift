import Crypto
import Foundation
import NIOPosix
import ShoalCore
import ShoalTestSupport
import Testing
@testable import ShoalEngine

/// Blocks go to disk as they arrive; a piece is checked when its last block is in, whatever
/// order its blocks came in.
@Suite("Piece writer")
struct PieceWriterTests {
    static let pieceLength = 64 << 10  // four blocks
    static let block = TorrentGeometry.blockLength

    /// Two pieces and their real hashes, a fresh directory, a writer.
    static func piece(_ value: Int, _ storage: FileStorage) -> PieceIndex { storage.geometry.piece(value)! }

    static func setUp() throws -> (writer: PieceWriter, storage: FileStorage, content: [UInt8], pool: NIOThreadPool) {
        var random = SeededRandom(seed: 90)
        let content = (0..<2 * pieceLength).map { _ in UInt8.random(in: 0...255, using: &random) }
        let hashes = stride(from: 0, to: content.count, by: pieceLength).flatMap { Array(Insecure.SHA1.hash(data: content[$0..<$0 + pieceLength])) }
        var builder = MetainfoBuilder(name: "w.bin", files: nil, length: Int64(content.count), pieceLength: pieceLength, pieceHashes: hashes)
        builder.trackerTiers = []
        let info = try Metainfo(bytes: builder.encoded()).info
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-writer-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let storage = FileStorage(info: info, downloadDirectory: directory)
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return (PieceWriter(storage: storage, info: info, pool: pool), storage, content, pool)
    }

    static func send(_ writer: PieceWriter, _ storage: FileStorage, piece: Int, blocks: [Int], from content: [UInt8], corrupt: Int? = nil) {
        for number in blocks {
            let start = piece * pieceLength + number * block
            var data = Array(content[start..<start + block])
            if number == corrupt { data[7] ^= 0xFF }
            writer.enqueue(.block(Self.piece(piece, storage), offset: number * block, data: data))
        }
    }

    @Test func piecesVerifyInAnyOrderAndLiesAreCaught() async throws {
        let (writer, storage, content, pool) = try Self.setUp()
        var outcomes = writer.outcomes.makeAsyncIterator()
        // In order; then out of order (the hash reads the rest back from disk).
        Self.send(writer, storage, piece: 0, blocks: [0, 1, 2, 3], from: content)
        writer.enqueue(.complete(Self.piece(0, storage), keep: false))
        Self.send(writer, storage, piece: 1, blocks: [2, 0, 3, 1], from: content)
        writer.enqueue(.complete(Self.piece(1, storage), keep: true))
        let first = try #require(await outcomes.next())
        #expect(first.piece.value == 0 && (try? first.result.get()) == true && first.data == nil)
        let second = try #require(await outcomes.next())
        #expect(second.piece.value == 1 && (try? second.result.get()) == true)
        #expect(second.data == Array(content[Self.pieceLength...]), "kept on request")
        #expect(try storage.read(offset: 0, length: content.count) == content)
        #expect(writer.queuedBytes.load(ordering: .relaxed) == 0)

        // A lie in block 1; the bad copy comes back to find the liar. Then the piece again,
        // honestly: its first block starts the hash afresh.
        Self.send(writer, storage, piece: 0, blocks: [0, 1, 2, 3], from: content, corrupt: 1)
        writer.enqueue(.complete(Self.piece(0, storage), keep: false))
        let lie = try #require(await outcomes.next())
        #expect((try? lie.result.get()) == false)
        #expect(lie.data.map { $0[Self.block + 7] != content[Self.block + 7] } == true)
        Self.send(writer, storage, piece: 0, blocks: [1, 3], from: content)
        Self.send(writer, storage, piece: 0, blocks: [0, 2], from: content)
        writer.enqueue(.complete(Self.piece(0, storage), keep: false))
        let again = try #require(await outcomes.next())
        #expect((try? again.result.get()) == true)
        writer.close()
        #expect(await outcomes.next() == nil, "closing ends the outcomes")
        try await pool.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: (storage.paths[0] as NSString).deletingLastPathComponent)
    }

    /// Blocks written as a list (one `pwritev` per file) land where one gathered write would
    /// put them, across file boundaries, including a 1-byte file and an empty buffer.
    @Test func blockListsWriteAcrossFiles() throws {
        let lengths: [Int64] = [5_000, 1, 30_000, 777]
        let total = Int(lengths.reduce(0, +))
        var random = SeededRandom(seed: 91)
        let content = (0..<total).map { _ in UInt8.random(in: 0...255, using: &random) }
        let pieceLength = 16 << 10
        let pieces = (total + pieceLength - 1) / pieceLength
        var builder = MetainfoBuilder(name: "tree", files: lengths.enumerated().map { .init(path: ["f\($0.offset)"], length: $0.element) },
                                      length: Int64(total), pieceLength: pieceLength, pieceHashes: Array(repeating: 0, count: 20 * pieces))
        builder.trackerTiers = []
        let info = try Metainfo(bytes: builder.encoded()).info
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-writev-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let storage = FileStorage(info: info, downloadDirectory: directory)
        // Uneven buffers, the first starting inside file 0 and the run crossing files 1 and 2.
        let cuts = [0, 4_000, 4_999, 5_000, 5_001, 5_001, 9_000, 21_000, total]
        let start = 1_000
        let blocks = zip(cuts, cuts.dropFirst()).map { Array(content[max($0, start)..<max($1, start)]) }
        try storage.write(offset: Int64(start), blocks: blocks)
        try storage.write(offset: 0, blocks: [Array(content[0..<500]), Array(content[500..<start])])
        #expect(try storage.read(offset: 0, length: total) == content)
        for (file, length) in lengths.enumerated() {
            let size = (try? FileManager.default.attributesOfItem(atPath: storage.paths[file])[.size] as? Int) ?? -1
            #expect(size == Int(length), "file \(file)")
        }
    }

    /// Uploads read on the event loop only what needs no wait: a file not opened yet is left to
    /// the I/O pool (false), and a cached range reads the same bytes as `read`, across files.
    @Test func readsWithoutWaitingOnlyWhatIsInMemory() throws {
        let lengths: [Int64] = [3_000, 1, 40_000]
        let total = Int(lengths.reduce(0, +))
        var random = SeededRandom(seed: 92)
        let content = (0..<total).map { _ in UInt8.random(in: 0...255, using: &random) }
        var builder = MetainfoBuilder(name: "cached", files: lengths.enumerated().map { .init(path: ["f\($0.offset)"], length: $0.element) },
                                      length: Int64(total), pieceLength: 16 << 10, pieceHashes: Array(repeating: 0, count: 20 * 3))
        builder.trackerTiers = []
        let info = try Metainfo(bytes: builder.encoded()).info
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-cached-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileStorage(info: info, downloadDirectory: directory).write(offset: 0, bytes: content)

        let storage = FileStorage(info: info, downloadDirectory: directory)
        var target = [UInt8](repeating: 0, count: 10_000)
        let start = 1_000
        #expect(!target.withUnsafeMutableBytes { storage.readIfCached(offset: Int64(start), into: $0) }, "files not open yet")
        _ = try storage.read(offset: 0, length: total)  // opens them; the data was just written, so it is cached
        #expect(target.withUnsafeMutableBytes { storage.readIfCached(offset: Int64(start), into: $0) })
        #expect(target == Array(content[start..<start + target.count]))
    }
}
