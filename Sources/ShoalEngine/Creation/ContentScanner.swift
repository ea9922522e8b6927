import Foundation
import ShoalCore

/// The files a torrent will be made of, in stream order.
public struct ContentLayout: Sendable {
    public struct File: Sendable {
        /// Components below the torrent's root (for a single file, just its name), as the
        /// directory holds them: bytes, not always UTF-8 (mktorrent keeps them so).
        public let rawPath: [[UInt8]]
        public let diskPath: DiskPath
        public let length: Int64

        /// The components as shown.
        public var path: [String] { rawPath.map(PathSanitizer.display) }
    }

    public let name: String
    public let isSingleFile: Bool
    public let files: [File]
    /// Things skipped while scanning (broken links, loops, unreadable entries), for the user.
    public let warnings: [String]

    public var totalLength: Int64 { files.reduce(0) { $0 + $1.length } }
}

public struct ContentScanError: Error, CustomStringConvertible {
    public let description: String
}

/// Walks a file or directory the way mktorrent does, so both make the same torrent:
/// hidden files are included, symbolic links are followed (a link's target is stored under the
/// link's name), and files are sorted by their full path, byte by byte. Links that are broken or
/// that lead back into a directory being walked are skipped with a warning.
public enum ContentScanner {
    public static func scan(_ path: String) throws(ContentScanError) -> ContentLayout {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let name = url.lastPathComponent
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            throw ContentScanError(description: "\(path): \(String(cString: strerror(errno)))")
        }
        if (info.st_mode & S_IFMT) == S_IFREG {
            guard info.st_size > 0 else { throw ContentScanError(description: "\(path) is empty") }
            return ContentLayout(name: name, isSingleFile: true,
                                 files: [.init(rawPath: [Array(name.utf8)], diskPath: DiskPath(url.path), length: Int64(info.st_size))],
                                 warnings: [])
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw ContentScanError(description: "\(path) is neither a regular file nor a directory")
        }
        var files: [ContentLayout.File] = []
        var warnings: [String] = []
        walk(directory: DiskPath(url.path), components: [], ancestors: [Identity(info)], files: &files, warnings: &warnings)
        // By the full path, byte by byte, as mktorrent sorts.
        func key(_ file: ContentLayout.File) -> [UInt8] { Array(file.rawPath.joined(separator: [UInt8(ascii: "/")])) }
        files.sort { key($0).lexicographicallyPrecedes(key($1)) }
        guard files.contains(where: { $0.length > 0 }) else {
            throw ContentScanError(description: "\(path) holds no data (no non-empty files)")
        }
        return ContentLayout(name: name, isSingleFile: false, files: files, warnings: warnings)
    }

    private struct Identity: Equatable {
        let device: UInt64
        let inode: UInt64
        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    /// The names in a directory as raw bytes (FileManager would drop or mangle a name that is
    /// not UTF-8); nil when it cannot be read.
    static func entries(of directory: DiskPath) -> [[UInt8]]? {
        guard let stream = directory.withCString({ opendir($0) }) else { return nil }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(name)
        }
        return names
    }

    private static func walk(directory: DiskPath, components: [[UInt8]], ancestors: [Identity],
                             files: inout [ContentLayout.File], warnings: inout [String]) {
        guard let entries = entries(of: directory) else {
            warnings.append("skipped unreadable directory \(directory)")
            return
        }
        for entry in entries {
            let full = directory.appending(entry)
            guard let info = full.status() else {
                warnings.append("skipped \(full): \(String(cString: strerror(errno)))")
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                files.append(.init(rawPath: components + [entry], diskPath: full, length: Int64(info.st_size)))
            case S_IFDIR:
                let identity = Identity(info)
                if ancestors.contains(identity) {
                    warnings.append("skipped \(full): link back into a directory being walked")
                    continue
                }
                walk(directory: full, components: components + [entry], ancestors: ancestors + [identity],
                     files: &files, warnings: &warnings)
            default:
                warnings.append("skipped \(full): not a regular file or directory")
            }
        }
    }
}

extension ContentLayout {
    /// The files in a v2 file tree's order (path component by component), which v2 and hybrid
    /// torrents use; mktorrent's order compares whole paths byte by byte.
    public func inV2Order() -> ContentLayout {
        ContentLayout(name: name, isSingleFile: isSingleFile, files: files.sorted { MetainfoBuilder.v2Order($0.rawPath, $1.rawPath) },
                      warnings: warnings)
    }
}
