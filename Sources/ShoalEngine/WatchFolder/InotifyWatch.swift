import Foundation

/// inotify on one directory: tells when something in it was written, moved in or created.
/// nil where inotify is unavailable; callers then rely on polling.
final class InotifyWatch: @unchecked Sendable {
    // The descriptor is only read by `waitForChange` and closed once by `close`.
    private let fd: Int32

    init?(directory: String) {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE)
        guard inotify_add_watch(fd, directory, mask) >= 0 else {
            Glibc.close(fd)
            return nil
        }
        self.fd = fd
    }

    /// Returns when an event arrives or after `limit`, whichever is first (polls the
    /// non-blocking descriptor every 100 ms, so no thread is ever blocked on it).
    func waitForChange(upTo limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline && !Task.isCancelled {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    func close() { Glibc.close(fd) }
}
