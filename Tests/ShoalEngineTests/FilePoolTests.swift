import Foundation
import ShoalCore
import ShoalTestSupport
import SystemPackage
import Testing
@testable import ShoalEngine

/// The bounded pool of open files every torrent shares.
@Suite("Open-file pool")
struct FilePoolTests {
    static func info(files: Int, size: Int = 100) throws -> InfoDictionary {
        let entries = (0..<files).map { MetainfoBuilder.Entry(path: ["f\($0)"], length: Int64(size)) }
        let total = files * size
        let pieces = (total + (16 << 10) - 1) / (16 << 10)
        let builder = MetainfoBuilder(name: "pool", files: entries, length: Int64(total), pieceLength: 16 << 10,
                                      pieceHashes: [UInt8](repeating: 0, count: pieces * 20))
        return try Metainfo(bytes: builder.encoded()).info
    }

    /// Writing and reading 300 files through a pool of 8 keeps at most 8 of them open.
    @Test func neverHoldsMoreThanItsCapacity() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pool = FilePool(capacity: 8)
        let info = try Self.info(files: 300)
        let storage = FileStorage(info: info, downloadDirectory: directory, pool: pool)
        let content = SwarmHarness.bytes(300 * 100, seed: 3)
        for start in stride(from: 0, to: content.count, by: 1000) {
            try storage.write(offset: Int64(start), bytes: Array(content[start..<start + 1000]))
            #expect(pool.openCount <= 8)
        }
        #expect(try storage.read(offset: 0, length: content.count) == content)
        #expect(pool.openCount <= 8)
        storage.sync()
        storage.closeAll()
        #expect(pool.openCount == 0)
    }

    /// A descriptor someone is using is never the one closed to make room.
    @Test func aDescriptorInUseIsNotEvicted() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let pool = FilePool(capacity: 2)
        let owner = FilePool.newOwner()
        func open(_ name: String) throws -> FileDescriptor {
            try FileDescriptor.open(FilePath(directory.appendingPathComponent(name).path), .readWrite, options: [.create],
                                    permissions: .ownerReadWrite)
        }
        let held = FilePool.Key(owner: owner, file: 0, writable: true)
        let descriptor = try pool.checkout(held) { try open("a") }
        for file in 1...5 {
            let key = FilePool.Key(owner: owner, file: file, writable: true)
            let opened = try pool.checkout(key) { try open("f\(file)") }
            pool.checkin(key, opened)
        }
        #expect(pool.openCount <= 2)
        #expect(pool.checkoutIfOpen(held) == descriptor, "still open while checked out")
        pool.checkin(held, descriptor)
        pool.checkin(held, descriptor)
        // Closing everything while in use defers the close to the last user; a new checkout
        // meanwhile gets a descriptor of its own.
        let again = try pool.checkout(held) { try open("a") }
        pool.closeAll(owner: owner)
        #expect(pool.checkoutIfOpen(held) == nil, "doomed: not handed out again")
        #expect(pool.openCount == 1)
        let fresh = try pool.checkout(held) { try open("a") }
        #expect(fresh != again)
        pool.checkin(held, fresh)
        pool.checkin(held, again)
        #expect(pool.openCount == 1, "the doomed one closed with its last user; the fresh one stays")
        pool.closeAll(owner: owner)
        #expect(pool.openCount == 0)
    }
}
