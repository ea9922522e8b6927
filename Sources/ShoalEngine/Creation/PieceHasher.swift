import Crypto
import Dispatch
import ShoalCore
import Synchronization
import SystemPackage

public struct PieceHashingError: Error, CustomStringConvertible {
    public let description: String
}

/// SHA-1 of every piece of a content layout, on several threads.
///
/// The pieces are cut into one contiguous run per thread; each thread streams its run from disk
/// in large reads, so the page cache and the SHA instructions stay busy.
public enum PieceHasher {
    public static func hash(
        _ layout: ContentLayout, pieceLength: Int, threads: Int,
        progress: (@Sendable (_ bytesDone: Int64) -> Void)? = nil
    ) throws(PieceHashingError) -> [UInt8] {
        try hash(stream: layout.files.map { ($0.diskPath, $0.length) }, pieceLength: pieceLength, threads: threads, progress: progress)
    }

    /// The same over a stream of files where a nil path is padding: zeros (a hybrid torrent's).
    public static func hash(
        stream files: [(path: DiskPath?, length: Int64)], pieceLength: Int, threads: Int,
        progress: (@Sendable (_ bytesDone: Int64) -> Void)? = nil
    ) throws(PieceHashingError) -> [UInt8] {
        let geometry = TorrentGeometry(totalLength: files.reduce(0) { $0 + $1.length }, pieceLength: pieceLength,
                                       fileLengths: files.map(\.length))
        let workers = max(1, min(threads, geometry.pieceCount))
        let result = Mutex<(hashes: [UInt8], error: String?)>(
            (hashes: [UInt8](repeating: 0, count: geometry.pieceCount * 20), error: nil))
        let done = Atomic<Int64>(0)
        let paths = files.map(\.path)

        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let first = geometry.pieceCount * worker / workers
            let last = geometry.pieceCount * (worker + 1) / workers
            do throws(PieceHashingError) {
                var reader = StreamReader(geometry: geometry, paths: paths)
                defer { reader.close() }
                var local: [UInt8] = []
                local.reserveCapacity((last - first) * 20)
                for value in first..<last {
                    let piece = geometry.piece(value)!
                    var sha = Insecure.SHA1()
                    try reader.read(offset: geometry.offset(of: piece), length: geometry.length(of: piece)) { chunk in
                        sha.update(bufferPointer: chunk)
                    }
                    local.append(contentsOf: sha.finalize())
                    let total = done.add(Int64(geometry.length(of: piece)), ordering: .relaxed).newValue
                    progress?(total)
                }
                result.withLock { $0.hashes.replaceSubrange(first * 20..<last * 20, with: local) }
            } catch {
                result.withLock { $0.error = $0.error ?? error.description }
            }
        }
        let (hashes, failure) = result.withLock { ($0.hashes, $0.error) }
        if let failure { throw PieceHashingError(description: failure) }
        return hashes
    }
}

/// Reads ranges of a torrent's byte stream from its files, keeping the current file open.
struct StreamReader: ~Copyable {
    let geometry: TorrentGeometry
    /// nil: padding, read as zeros.
    let paths: [DiskPath?]
    private var openFile: (index: Int, descriptor: FileDescriptor)?
    private let buffer: UnsafeMutableRawBufferPointer

    static let chunk = 1 << 20

    init(geometry: TorrentGeometry, paths: [DiskPath?]) {
        self.geometry = geometry
        self.paths = paths
        self.buffer = .allocate(byteCount: Self.chunk, alignment: 4096)
    }

    mutating func close() {
        if let openFile { try? openFile.descriptor.close() }
        openFile = nil
    }

    deinit {
        if let openFile { try? openFile.descriptor.close() }
        buffer.deallocate()
    }

    /// Calls `body` with consecutive chunks covering the range.
    mutating func read(offset: Int64, length: Int, _ body: (UnsafeRawBufferPointer) -> Void) throws(PieceHashingError) {
        for span in geometry.fileSpans(offset: offset, length: length) {
            guard paths[span.file] != nil else {
                var remaining = span.length
                while remaining > 0 {
                    let want = min(remaining, Self.chunk)
                    let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want])
                    slice.initializeMemory(as: UInt8.self, repeating: 0)
                    body(UnsafeRawBufferPointer(slice))
                    remaining -= want
                }
                continue
            }
            let descriptor = try open(span.file)
            var position = span.offsetInFile
            var remaining = span.length
            while remaining > 0 {
                let want = min(remaining, Self.chunk)
                let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want])
                let got: Int
                do {
                    got = try descriptor.read(fromAbsoluteOffset: position, into: slice, retryOnInterrupt: true)
                } catch {
                    throw PieceHashingError(description: "\(paths[span.file]!): read failed: \(error)")
                }
                guard got > 0 else {
                    throw PieceHashingError(description: "\(paths[span.file]!) became shorter while it was being read")
                }
                body(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
                position += Int64(got)
                remaining -= got
            }
        }
    }

    private mutating func open(_ file: Int) throws(PieceHashingError) -> FileDescriptor {
        if let openFile, openFile.index == file { return openFile.descriptor }
        close()
        guard let path = paths[file] else { throw PieceHashingError(description: "padding has no file") }
        do {
            let descriptor = try FileDescriptor.open(path.filePath, .readOnly)
            openFile = (file, descriptor)
            return descriptor
        } catch {
            throw PieceHashingError(description: "\(path): \(error)")
        }
    }
}
