import Foundation
import ShoalCore
import SystemPackage

/// An absolute path as the bytes the filesystem sees. A torrent's names need not be UTF-8
/// (`caf\xe9.txt`), and a Swift `String` cannot hold such bytes; these can, so a file keeps the
/// exact name mktorrent gave it and two Latin-1 names stay two files.
public struct DiskPath: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ text: String) { self.bytes = Array(text.utf8) }

    /// `root`, then each component, joined with `/`.
    public init(root: String, components: [[UInt8]]) {
        var bytes = Array(root.utf8)
        for component in components {
            if bytes.last != UInt8(ascii: "/") { bytes.append(UInt8(ascii: "/")) }
            bytes += component
        }
        self.bytes = bytes
    }

    /// How the path is shown: UTF-8, other bytes as Latin-1.
    public var description: String { PathSanitizer.display(bytes) }

    /// Runs `body` with the path as a NUL-terminated C string.
    public func withCString<T>(_ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        try (bytes.map { CChar(bitPattern: $0) } + [0]).withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    public var filePath: FilePath { withCString { FilePath(platformString: $0) } }

    /// `stat`, or nil when the path does not exist (or cannot be looked at).
    public func status() -> stat? {
        var info = stat()
        return withCString { stat($0, &info) } == 0 ? info : nil
    }

    /// `lstat`: the entry itself, a link not followed.
    public func linkStatus() -> stat? {
        var info = stat()
        return withCString { lstat($0, &info) } == 0 ? info : nil
    }

    /// The path one component deeper.
    public func appending(_ component: [UInt8]) -> DiskPath { DiskPath(bytes + [UInt8(ascii: "/")] + component) }
}
