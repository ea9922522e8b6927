import Foundation
import Synchronization

/// An append-only log file that rotates at a size: `shoal.log` becomes `shoal.log.1` (and so on
/// up to `keep` old files, the oldest deleted), as logrotate would, so a long run cannot fill the
/// disk. Writes come from any thread; each line is one `write(2)` under the lock.
public final class LogFile: Sendable {
    public let path: String
    public let maxBytes: Int
    public let keep: Int
    private struct State {
        var descriptor: Int32
        var size: Int
    }
    private let state: Mutex<State>

    public struct CannotOpen: Error, CustomStringConvertible {
        public let description: String
    }

    public init(path: String, maxBytes: Int = 10 << 20, keep: Int = 3) throws(CannotOpen) {
        self.path = path
        self.maxBytes = max(4096, maxBytes)
        self.keep = max(1, keep)
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)
        let descriptor = Self.open(path)
        guard descriptor >= 0 else {
            throw CannotOpen(description: "cannot open the log file \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        let size = fstat(descriptor, &info) == 0 ? Int(info.st_size) : 0
        state = Mutex(State(descriptor: descriptor, size: size))
    }

    deinit {
        state.withLock { _ = close($0.descriptor) }
    }

    private static func open(_ path: String) -> Int32 {
        Foundation.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    }

    public func write(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        state.withLock { state in
            if state.size > 0 && state.size + bytes.count > maxBytes { rotate(&state) }
            let written = bytes.withUnsafeBytes { Foundation.write(state.descriptor, $0.baseAddress, $0.count) }
            if written > 0 { state.size += written }
        }
    }

    /// Renames the files one step older and starts an empty one. If renaming fails (a read-only
    /// directory), the current file is reused rather than logging stopping.
    private func rotate(_ state: inout State) {
        unlink("\(path).\(keep)")
        for number in stride(from: keep - 1, through: 1, by: -1) { rename("\(path).\(number)", "\(path).\(number + 1)") }
        guard rename(path, "\(path).1") == 0 else {
            _ = ftruncate(state.descriptor, 0)
            state.size = 0
            return
        }
        let fresh = Self.open(path)
        guard fresh >= 0 else { return }
        _ = close(state.descriptor)
        state.descriptor = fresh
        state.size = 0
    }
}
