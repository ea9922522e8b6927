import CPageCache
import Foundation
import ShoalCore
import Synchronization
import SystemPackage

/// A torrent's files on disk: maps ranges of the torrent's byte stream to pread/pwrite calls.
///
/// Files are created on first write and sized to their full length at once (sparse where the
/// filesystem allows), so a partly downloaded file already has its final size. Padding files
/// (BEP 47) are never created and read as zeros. Calls block: run them on a thread pool.
/// Descriptors come from the process's `FilePool`, so a torrent of 10,000 files never holds
/// more than the pool allows. Each file's identity (device and inode) is noted when first
/// opened: a file deleted or replaced under a running torrent is reported, not written to as a
/// ghost and then claimed as downloaded.
public final class FileStorage: Sendable {
    public let geometry: TorrentGeometry
    /// Absolute path of each file, inside the download directory, as shown ...
    public let paths: [String]
    /// ... and as the filesystem sees it.
    public let diskPaths: [DiskPath]
    /// The download directory: nothing is opened through a symbolic link below it.
    let root: String
    /// Files that are never on disk (padding, links).
    let padding: [Bool]
    private let pool: FilePool
    /// This storage's descriptors in the pool.
    private let poolOwner = FilePool.newOwner()
    /// How each open file can be read without blocking (see `readIfCached`).
    private enum CachedRead { case noWait, memory, never }
    private let cachedReads: Mutex<[Int: CachedRead]> = Mutex([:])
    /// Device and inode of each file as first opened by this storage.
    private struct Identity: Equatable {
        let device: UInt64
        let inode: UInt64
    }
    private let identities: Mutex<[Int: Identity]> = Mutex([:])

    init(info: InfoDictionary, downloadDirectory: String, pool: FilePool) {
        self.pool = pool
        self.geometry = info.geometry
        let root = StandardizedRoot.of(downloadDirectory)
        self.root = root
        if info.isSingleFile {
            // A v2 single file is followed by padding (virtual, never opened): a path each all the same.
            self.diskPaths = info.files.indices.map {
                DiskPath(root: root, components: $0 == 0 ? [info.diskName] : [info.diskName] + info.files[$0].diskPath)
            }
        } else {
            self.diskPaths = info.files.map { DiskPath(root: root, components: [info.diskName] + $0.diskPath) }
        }
        self.paths = diskPaths.map(\.description)
        self.padding = info.files.map(\.isVirtual)
    }

    public convenience init(info: InfoDictionary, downloadDirectory: String) {
        self.init(info: info, downloadDirectory: downloadDirectory, pool: .shared)
    }

    deinit { pool.closeAll(owner: poolOwner) }

    private func key(_ file: Int, writable: Bool) -> FilePool.Key {
        FilePool.Key(owner: poolOwner, file: file, writable: writable)
    }

    /// Runs `body` with a descriptor of the file: for reading, a writable one already open
    /// serves too.
    private func withDescriptor<T>(_ file: Int, forWriting: Bool, _ body: (FileDescriptor) throws -> T) throws -> T {
        if !forWriting, let open = pool.checkoutIfOpen(key(file, writable: true)) {
            defer { pool.checkin(key(file, writable: true), open) }
            return try body(open)
        }
        let key = self.key(file, writable: forWriting)
        let descriptor = try pool.checkout(key) { try self.open(file, forWriting: forWriting) }
        // A write that failed half-way still wrote something: the descriptor is dirty either way.
        defer { pool.checkin(key, descriptor, wrote: forWriting) }
        return try body(descriptor)
    }

    /// Reads a range of the stream. Missing files or short files read as an error: the caller
    /// treats that as "piece not present".
    public func read(offset: Int64, length: Int) throws(StorageError) -> [UInt8] {
        do {
            return try [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
                try read(offset: offset, into: UnsafeMutableRawBufferPointer(buffer))
                count = length
            }
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError("\(error)")
        }
    }

    /// Reads `target.count` bytes of the stream from `offset` into memory the caller owns (no
    /// zeroing first: only padding files, which are not on disk, are filled with zeros).
    public func read(offset: Int64, into target: UnsafeMutableRawBufferPointer) throws(StorageError) {
        for span in geometry.fileSpans(offset: offset, length: target.count) {
            guard let part = filePart(of: target, span) else { continue }
            do {
                try withDescriptor(span.file, forWriting: false) { descriptor in
                    var done = 0
                    while done < span.length {
                        let got: Int
                        do {
                            got = try descriptor.read(fromAbsoluteOffset: span.offsetInFile + Int64(done),
                                                      into: UnsafeMutableRawBufferPointer(rebasing: part[done...]))
                        } catch {
                            throw StorageError("\(paths[span.file]): read failed: \(error)")
                        }
                        if got == 0 { throw StorageError("\(paths[span.file]) is shorter than the torrent says") }
                        done += got
                    }
                }
            } catch let error as StorageError {
                throw error
            } catch {
                throw StorageError("\(paths[span.file]): \(error)")
            }
        }
    }

    /// Reads what is already in the page cache without blocking, so a network thread may call
    /// it: false when any part is not cached, its file is not open yet, or the read fails; the
    /// caller then reads on the I/O pool, where errors are reported.
    public func readIfCached(offset: Int64, into target: UnsafeMutableRawBufferPointer) -> Bool {
        for span in geometry.fileSpans(offset: offset, length: target.count) {
            guard let part = filePart(of: target, span), let base = part.baseAddress else { continue }
            // Only a file already open: opening could block, and this runs on a network thread.
            var held = key(span.file, writable: true)
            var found = pool.checkoutIfOpen(held)
            if found == nil {
                held = key(span.file, writable: false)
                found = pool.checkoutIfOpen(held)
            }
            guard let descriptor = found else { return false }
            defer { pool.checkin(held, descriptor) }
            let mode = cachedReads.withLock { modes in
                if let known = modes[span.file] { return known }
                let probed: CachedRead = shoal_memory_backed(descriptor.rawValue) != 0 ? .memory : .noWait
                modes[span.file] = probed
                return probed
            }
            var done = 0
            while done < span.length {
                let position = off_t(span.offsetInFile) + off_t(done)
                let got: Int
                switch mode {
                case .never: return false
                case .memory: got = pread(descriptor.rawValue, base + done, span.length - done, position)
                case .noWait: got = shoal_pread_if_cached(descriptor.rawValue, base + done, span.length - done, position)
                }
                // A filesystem without RWF_NOWAIT (and not in memory) is always read on the pool.
                if got < 0 && errno == EOPNOTSUPP { cachedReads.withLock { $0[span.file] = .never } }
                guard got > 0 else { return false }
                done += got
            }
        }
        return true
    }

    /// The part of a read's target that a span fills from its file; nil for a padding file,
    /// whose part is zeroed here (it is never on disk).
    private func filePart(of target: UnsafeMutableRawBufferPointer, _ span: FileSpan) -> UnsafeMutableRawBufferPointer? {
        let part = UnsafeMutableRawBufferPointer(rebasing: target[span.offsetInRange..<span.offsetInRange + span.length])
        guard padding[span.file] else { return part }
        part.initializeMemory(as: UInt8.self, repeating: 0)
        return nil
    }

    public func write(offset: Int64, bytes: [UInt8]) throws(StorageError) {
        try write(offset: offset, blocks: [bytes])
    }

    /// Writes consecutive buffers as one range of the stream: one `pwritev` per file they
    /// cross, so blocks that arrived separately reach the disk without being gathered first.
    public func write(offset: Int64, blocks: [[UInt8]]) throws(StorageError) {
        var parts: [UnsafeRawBufferPointer] = []
        parts.reserveCapacity(blocks.count)
        do {
            try Self.withPointers(to: blocks[...], collecting: &parts) { parts in
                try write(offset: offset, parts: parts)
            }
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError("\(error)")
        }
    }

    /// Calls `body` with the bytes of every array, all pinned at once (one closure per array).
    private static func withPointers(to arrays: ArraySlice<[UInt8]>, collecting parts: inout [UnsafeRawBufferPointer],
                                     _ body: ([UnsafeRawBufferPointer]) throws -> Void) throws {
        guard let first = arrays.first else { return try body(parts) }
        try first.withUnsafeBytes { bytes in
            parts.append(bytes)
            try withPointers(to: arrays.dropFirst(), collecting: &parts, body)
        }
    }

    private func write(offset: Int64, parts: [UnsafeRawBufferPointer]) throws {
        let total = parts.reduce(0) { $0 + $1.count }
        for span in geometry.fileSpans(offset: offset, length: total) where !padding[span.file] {
            try withDescriptor(span.file, forWriting: true) { descriptor in
                var pending = Self.range(span.offsetInRange, length: span.length, of: parts)
                var position = span.offsetInFile
                while !pending.isEmpty {
                    let vectors = pending.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
                    let written = pwritev(descriptor.rawValue, vectors, Int32(vectors.count), off_t(position))
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else {
                        let reason = written < 0 ? String(cString: strerror(errno)) : "nothing written"
                        throw StorageError("\(paths[span.file]): write failed: \(reason)")
                    }
                    position += Int64(written)
                    pending = Self.range(written, length: pending.reduce(0) { $0 + $1.count } - written, of: pending)
                }
            }
        }
    }

    /// The buffers covering `length` bytes from `start` of the concatenation of `parts`.
    private static func range(_ start: Int, length: Int, of parts: [UnsafeRawBufferPointer]) -> [UnsafeRawBufferPointer] {
        var result: [UnsafeRawBufferPointer] = []
        var skip = start
        var left = length
        for part in parts where left > 0 {
            if skip >= part.count {
                skip -= part.count
                continue
            }
            let take = min(part.count - skip, left)
            result.append(UnsafeRawBufferPointer(rebasing: part[skip..<skip + take]))
            left -= take
            skip = 0
        }
        return result
    }

    public func read(piece: PieceIndex) throws(StorageError) -> [UInt8] {
        try read(offset: geometry.offset(of: piece), length: geometry.length(of: piece))
    }

    public func write(piece: PieceIndex, bytes: [UInt8]) throws(StorageError) {
        try write(offset: geometry.offset(of: piece), bytes: bytes)
    }

    /// True if every non-padding file exists with its full size (a quick test before a recheck).
    public func fileExists(_ file: Int) -> Bool {
        diskPaths[file].status().map { ($0.st_mode & S_IFMT) == S_IFREG } ?? false
    }

    /// Creates the empty files of the torrent, which no piece write would create.
    public func createEmptyFiles() throws(StorageError) {
        for (file, length) in geometry.fileLengths.enumerated() where length == 0 && !padding[file] {
            do {
                try withDescriptor(file, forWriting: true) { _ in }
            } catch let error as StorageError {
                throw error
            } catch {
                throw StorageError("\(paths[file]): \(error)")
            }
        }
    }

    /// Flushes written data to disk.
    public func sync() { pool.sync(owner: poolOwner) }

    public func closeAll() { pool.closeAll(owner: poolOwner) }

    /// Why one of `files` is no longer the file this storage wrote or read (deleted, or
    /// replaced by another), or nil when all are in place. Files not opened since the storage
    /// was made are checked only for being there.
    public func vanished(files: some Sequence<Int>) -> String? {
        let known = identities.withLock { $0 }
        for file in files where !padding[file] {
            guard let info = diskPaths[file].status() else {
                return "\(paths[file]) was deleted or moved while the torrent was running"
            }
            if let identity = known[file], identity != Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)) {
                return "\(paths[file]) was replaced by another file while the torrent was running"
            }
        }
        return nil
    }

    /// Notes the file's identity on its first open; refuses a file that is not the one noted.
    private func checkIdentity(_ file: Int, _ descriptor: FileDescriptor) throws(StorageError) {
        var info = stat()
        guard fstat(descriptor.rawValue, &info) == 0 else { return }
        let seen = Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        let noted = identities.withLock { known -> Identity in
            if let old = known[file] { return old }
            known[file] = seen
            return seen
        }
        guard noted == seen else {
            try? descriptor.close()
            throw StorageError("\(paths[file]) was deleted or replaced while the torrent was running")
        }
    }

    private func open(_ file: Int, forWriting: Bool) throws(StorageError) -> FileDescriptor {
        let path = paths[file]
        // A file this storage has had open must still be there: re-created empty, a deleted
        // file would take the rest of the download while the first part was lost.
        let seenBefore = identities.withLock { $0[file] != nil }
        let descriptor: FileDescriptor
        do {
            try checkNoLinks(to: file, missing: forWriting && !seenBefore ? .create : .fail)
            let target = diskPaths[file].filePath
            if forWriting {
                descriptor = try FileDescriptor.open(target, .readWrite, options: seenBefore ? [.noFollow] : [.create, .noFollow],
                                                     permissions: [.ownerReadWrite, .groupRead, .otherRead])
            } else {
                descriptor = try FileDescriptor.open(target, .readOnly, options: [.noFollow])
            }
        } catch let error as StorageError {
            throw error
        } catch Errno.noSuchFileOrDirectory where seenBefore {
            throw StorageError("\(path) was deleted or moved while the torrent was running")
        } catch {
            throw StorageError("\(path): \(error)")
        }
        try checkIdentity(file, descriptor)
        if forWriting {
            var info = stat()
            if fstat(descriptor.rawValue, &info) == 0, Int64(info.st_size) < geometry.fileLengths[file] {
                guard ftruncate(descriptor.rawValue, off_t(geometry.fileLengths[file])) == 0 else {
                    let reason = String(cString: strerror(errno))
                    try? descriptor.close()
                    throw StorageError("\(path): cannot size the file: \(reason)")
                }
            }
        }
        return descriptor
    }
}
