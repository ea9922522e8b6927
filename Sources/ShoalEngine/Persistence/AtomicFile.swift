import Foundation

/// Writes a file so that a crash at any moment leaves either the old content or the new, never
/// a torn mix: temp file in the same directory, fsync, rename, fsync of the directory.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try replace(path, with: data)
        syncDirectory(directory)
    }

    /// The same for several files of one directory, with one sync of the directory for them
    /// all (a group commit: a hundred torrents added at once cost a hundred and one syncs, not
    /// two hundred). Every file is tried; the first failure is thrown after.
    static func write(_ files: [(data: Data, path: String)], in directory: String) throws {
        guard !files.isEmpty else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var firstFailure: (any Error)?
        for file in files {
            do {
                try replace(file.path, with: file.data)
            } catch {
                if firstFailure == nil { firstFailure = error }
            }
        }
        syncDirectory(directory)
        if let firstFailure { throw firstFailure }
    }

    /// Temp file, its data synced, renamed over `path` (the directory not yet synced).
    private static func replace(_ path: String, with data: Data) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw StorageError("\(temporary): \(String(cString: strerror(errno)))") }
        var failure = data.withUnsafeBytes { writeAll(fd, $0) }
        if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if let failure {
            unlink(temporary)
            throw StorageError("\(path): cannot save: \(failure)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw StorageError("\(path): cannot save: \(reason)")
        }
    }

    private static func syncDirectory(_ directory: String) {
        let directoryFD = open(directory, O_RDONLY)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// Writes every byte (retrying short and interrupted writes); the error's text on failure.
    static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer) -> String? {
        var written = 0
        while written < raw.count {
            let result = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                return String(cString: strerror(errno))
            }
            written += result
        }
        return nil
    }
}
