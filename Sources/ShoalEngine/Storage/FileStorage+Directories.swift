import Foundation
import ShoalCore

/// The directories between the download directory and a torrent's files: created as needed,
/// never followed through a symbolic link, and removed with the torrent's data when asked.
extension FileStorage {
    /// What to do on meeting a directory of the path that does not exist yet.
    enum MissingDirectory { case create, fail, stop }

    /// The components of a file's path below the download directory.
    func relativeComponents(_ file: Int) -> [[UInt8]] {
        diskPaths[file].bytes.dropFirst(root.utf8.count).split(separator: UInt8(ascii: "/")).map(Array.init)
    }

    /// Walks the directories between the download directory and the file and refuses a symbolic
    /// link among them: a link planted in the download directory must not send the torrent's
    /// data (or reads of it) anywhere else. The file itself is opened with O_NOFOLLOW.
    func checkNoLinks(to file: Int, missing: MissingDirectory) throws(StorageError) {
        // The download directory itself is the user's choice (it may be a link); it is created
        // if missing.
        if missing == .create { try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true) }
        var current = DiskPath(root)
        for component in relativeComponents(file).dropLast() {
            current = current.appending(component)
            if let info = current.linkStatus() {
                if info.st_mode & S_IFMT == S_IFLNK {
                    throw StorageError("\(current) is a symbolic link: Shoal writes only inside the download directory, not through links")
                }
                guard info.st_mode & S_IFMT == S_IFDIR else { throw StorageError("\(current) is in the way: it is not a directory") }
                continue
            }
            switch missing {
            case .stop: return  // created later, when written
            case .fail: throw StorageError("\(current) is missing")
            case .create:
                guard current.withCString({ mkdir($0, 0o755) }) == 0 || errno == EEXIST else {
                    throw StorageError("\(current): cannot create the directory: \(String(cString: strerror(errno)))")
                }
            }
        }
    }

    /// Checks before any download that every file can be written where it belongs: names the
    /// filesystem can hold (255 bytes a component; the torrent's names were shortened to fit)
    /// and no symbolic link on the way.
    public func preflight() throws(StorageError) {
        for file in paths.indices where !padding[file] {
            for component in relativeComponents(file) where component.count > 255 {
                throw StorageError("\(PathSanitizer.display(Array(component.prefix(40))))…: file name too long (\(component.count) bytes; the limit is 255)")
            }
            try checkNoLinks(to: file, missing: .stop)
        }
    }

    /// Deletes the torrent's own files, then the directories they were in once empty — never
    /// anything else the user keeps there, and never through a symbolic link.
    /// Deletes the torrent's own files and the directories they leave empty; throws naming
    /// the files that could not be deleted (a file already gone is no failure).
    public func deleteFiles() throws(StorageError) {
        closeAll()
        var directories = Set<DiskPath>()
        var failures: [String] = []
        for file in paths.indices where !padding[file] {
            let target = diskPaths[file]
            if let info = target.linkStatus(), info.st_mode & S_IFMT == S_IFREG, target.withCString({ unlink($0) }) != 0, errno != ENOENT {
                failures.append("\(paths[file]): \(String(cString: strerror(errno)))")
            }
            var parent = DiskPath(root)
            for component in relativeComponents(file).dropLast() {
                parent = parent.appending(component)
                directories.insert(parent)
            }
        }
        // Deepest first; rmdir fails harmlessly on a directory that still holds something.
        for directory in directories.sorted(by: { $0.bytes.count > $1.bytes.count }) {
            _ = directory.withCString { rmdir($0) }
        }
        guard failures.isEmpty else {
            let shown = failures.prefix(3).joined(separator: "; ") + (failures.count > 3 ? "; and \(failures.count - 3) more" : "")
            throw StorageError("could not delete \(failures.count) file\(failures.count == 1 ? "" : "s"): \(shown)")
        }
    }
}
