import Foundation

/// A real client (libtorrent, aria2, the shoal binary) started by a test, with its output
/// collected in a file and a bounded life: it is killed when the value is stopped or released.
public final class ExternalProcess: @unchecked Sendable {
    public let process: SpawnedProcess
    public let logURL: URL
    private let log: FileHandle

    /// `environment` is added to the test's own.
    public init(_ executable: String, _ arguments: [String], directory: URL? = nil, environment: [String: String] = [:],
                logName: String) throws {
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-\(logName)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        log = try FileHandle(forWritingTo: logURL)
        process = try SpawnedProcess(executable, arguments, directory: directory?.path, environment: environment,
                                     output: log.fileDescriptor, error: log.fileDescriptor)
    }

    deinit {
        stop()
        try? log.close()
        try? FileManager.default.removeItem(at: logURL)
    }

    public var output: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Waits for the process to exit by itself, up to `timeout`; nil if it is still running.
    public func wait(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Waits until the output contains `text`.
    public func waitForOutput(_ text: String, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if output.contains(text) { return true }
            if !process.isRunning { return output.contains(text) }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// SIGTERM, then SIGKILL if it has not exited after two seconds; returns once it is gone.
    /// Waits with `Task.sleep`: a test blocking one of the cooperative pool's two threads here
    /// would stall every session the other tests run in this process.
    public func stop() async {
        guard process.isRunning else { return }
        process.terminate()
        if await wait(timeout: .seconds(2)) == nil {
            kill(process.processIdentifier, SIGKILL)
            _ = await wait(timeout: .seconds(5))
        }
    }

    /// The same for `defer` and `deinit`, which cannot wait: SIGTERM now, and the SIGKILL if it
    /// is needed from a dispatch thread two seconds later.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let process = self.process
        DispatchQueue.global().asyncAfter(deadline: .now() + 2) {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// The `shoal` executable built beside the test bundle.
    public static let shoalExecutable: URL = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("shoal")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath + "/.build/debug/shoal")
    }()

    public static func which(_ name: String) -> String? {
        if name.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Interop tests need the real clients `.ci/run` installs. Off CI a missing client skips the
    /// test; on CI it runs and fails, so a broken install cannot pass silently.
    public static func available(_ names: String...) -> Bool {
        names.allSatisfy { which($0) != nil } || ProcessInfo.processInfo.environment["CI"] != nil
    }

    /// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        return bound(fd, port: 0) ?? 0
    }

    /// A port free on 127.0.0.1 for TCP and for UDP at once, for a process that listens on both
    /// (a tracker): `freePort` checks TCP only, and the UDP port may be some session's DHT.
    public static func freePortForTCPAndUDP() -> Int {
        for _ in 0..<50 {
            let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0), udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(tcp); close(udp) }
            if let port = bound(tcp, port: 0), bound(udp, port: port) != nil { return port }
        }
        return freePort()
    }

    /// Binds `fd` to 127.0.0.1:`port` (0: any) and returns the port bound, nil if the bind failed.
    private static func bound(_ fd: Int32, port: Int) -> Int? {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard result == 0 else { return nil }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
