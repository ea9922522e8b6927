import Foundation

/// Copies a file or folder to a path on another filesystem in chunks, counting bytes into a
/// `MoveProgress`, each file flushed to disk before the copy counts as done (the original is
/// removed after, so a power cut must not find neither whole). On any failure what was copied is
/// removed and the original is untouched.
enum TreeCopy {
    static let chunkSize = 4 << 20

    static func copy(_ source: String, to target: String, progress: MoveProgress?) throws(StorageError) {
        let manager = FileManager.default
        progress?.start(total: size(of: source))
        do {
            try copyItem(source, to: target, manager: manager, progress: progress)
        } catch {
            try? manager.removeItem(atPath: target)
            throw error
        }
    }

    /// The bytes of every regular file at or below `path`.
    static func size(of path: String) -> Int64 {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { return 0 }
        if !isDirectory.boolValue { return fileSize(path) }
        var total: Int64 = 0
        for case let relative as String in manager.enumerator(atPath: path) ?? FileManager.DirectoryEnumerator() {
            total += fileSize(path + "/" + relative)
        }
        return total
    }

    private static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return 0 }
        return Int64(info.st_size)
    }

    private static func copyItem(_ source: String, to target: String, manager: FileManager, progress: MoveProgress?) throws(StorageError) {
        var info = stat()
        guard lstat(source, &info) == 0 else { throw StorageError("cannot read \(source): \(String(cString: strerror(errno)))") }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            // Writable by us whatever the original's mode, or its contents could not be copied in.
            guard mkdir(target, (info.st_mode & 0o7777) | 0o700) == 0 else {
                throw StorageError("cannot create \(target): \(String(cString: strerror(errno)))")
            }
            let names: [String]
            do { names = try manager.contentsOfDirectory(atPath: source) } catch {
                throw StorageError("cannot list \(source): \(error.localizedDescription)")
            }
            for name in names.sorted() { try copyItem(source + "/" + name, to: target + "/" + name, manager: manager, progress: progress) }
        case S_IFREG:
            try copyFile(source, to: target, mode: info.st_mode & 0o7777, progress: progress)
        default:
            // A symbolic link or other special file (none of which Shoal writes): as it is.
            do { try manager.copyItem(atPath: source, toPath: target) } catch {
                throw StorageError("cannot copy \(source): \(error.localizedDescription)")
            }
        }
    }

    private static func copyFile(_ source: String, to target: String, mode: mode_t, progress: MoveProgress?) throws(StorageError) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw StorageError("cannot open \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard output >= 0 else { throw StorageError("cannot create \(target): \(String(cString: strerror(errno)))") }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        while true {
            if progress?.isCancelled == true { throw StorageError("the move was cancelled; the data stays where it was") }
            let read = buffer.withUnsafeMutableBytes { Foundation.read(input, $0.baseAddress, chunkSize) }
            if read == 0 { break }
            guard read > 0 else {
                if errno == EINTR { continue }
                throw StorageError("cannot read \(source): \(String(cString: strerror(errno)))")
            }
            var written = 0
            while written < read {
                let count = buffer.withUnsafeBytes { Foundation.write(output, $0.baseAddress! + written, read - written) }
                guard count > 0 else {
                    if count < 0, errno == EINTR { continue }
                    throw StorageError("cannot write \(target): \(count < 0 ? String(cString: strerror(errno)) : "nothing written")")
                }
                written += count
            }
            progress?.add(Int64(read))
        }
        guard fsync(output) == 0 else { throw StorageError("cannot flush \(target): \(String(cString: strerror(errno)))") }
    }
}
