import Foundation
import ShoalCore

/// Moving a torrent's data to another download directory (the RPC's `torrent-set-location`).
extension FileStorage {
    /// Moves the torrent's top-level file or folder from this storage's directory into
    /// `directory`: a rename on the same filesystem, else a copy and then the original removed,
    /// so a failure part-way leaves the original whole. Never replaces something already at the
    /// destination. Nothing on disk yet (a torrent not started) is not an error.
    /// `progress` counts a copy's bytes; `copying` copies even on one filesystem (for tests).
    public func moveTopLevel(to directory: String, progress: MoveProgress? = nil, copying: Bool = false) throws(StorageError) {
        closeAll()
        guard let first = relativeComponents(0).first else { return }
        let source = DiskPath(root: root, components: [first])
        let targetRoot = (AbsolutePath.resolve(directory) as NSString).standardizingPath
        guard targetRoot != root else { return }
        let target = DiskPath(root: targetRoot, components: [first])
        guard source.linkStatus() != nil else { return }
        guard target.linkStatus() == nil else { throw StorageError("\(target) already exists; nothing was moved") }
        do {
            try FileManager.default.createDirectory(atPath: targetRoot, withIntermediateDirectories: true)
        } catch {
            throw StorageError("cannot create \(targetRoot): \(error.localizedDescription)")
        }
        if !copying {
            let renamed = source.withCString { from in target.withCString { to in rename(from, to) } }
            if renamed == 0 { return }
            let reason = errno
            guard reason == EXDEV else { throw StorageError("cannot move \(source) to \(targetRoot): \(String(cString: strerror(reason)))") }
        }
        try TreeCopy.copy(source.description, to: target.description, progress: progress)
        do {
            try FileManager.default.removeItem(atPath: source.description)
        } catch {
            throw StorageError("copied to \(targetRoot), but cannot remove \(source): \(error.localizedDescription)")
        }
    }
}
