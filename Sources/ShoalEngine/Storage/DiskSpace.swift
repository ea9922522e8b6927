import Foundation

/// Free and total bytes of the filesystem holding a path (statvfs), for the status bar and the
/// RPC's `free-space`; nil when the path cannot be looked at.
public enum DiskSpace {
    public static func of(_ path: String) -> (free: Int64, total: Int64)? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return (Int64(info.f_bavail) * Int64(info.f_frsize), Int64(info.f_blocks) * Int64(info.f_frsize))
    }
}
