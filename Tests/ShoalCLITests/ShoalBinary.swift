import Foundation

/// Runs the `shoal` executable built beside the test bundle, and other programs, capturing output.
enum ShoalBinary {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static let url: URL = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("shoal")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath + "/.build/debug/shoal")
    }()

    static func run(_ arguments: [String], in directory: URL? = nil) throws -> Result {
        try execute(url, arguments, in: directory)
    }

    static func execute(_ program: URL, _ arguments: [String], in directory: URL? = nil) throws -> Result {
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes before waiting so a chatty child cannot block on a full pipe.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        // Bounded: a child that never exits fails its test instead of hanging the whole run.
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            return Result(status: -1, stdout: String(decoding: outData, as: UTF8.self), stderr: "timed out")
        }
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// A program from PATH (or an absolute path), if installed.
    static func tool(_ name: String) -> URL? {
        if name.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: name) ? URL(fileURLWithPath: name) : nil }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// Interop tests need the real clients; `.ci/run` installs them. Off CI a missing client skips
    /// the test; on CI it fails it, so a broken install cannot pass silently.
    static func hasTools(_ names: String...) -> Bool {
        names.allSatisfy { tool($0) != nil } || ProcessInfo.processInfo.environment["CI"] != nil
    }
}

/// A temporary directory removed when the value is released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func write(_ relative: String, bytes: Int, seed: UInt64) throws -> URL {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        var state = seed | 1
        var content = [UInt8](repeating: 0, count: bytes)
        for index in 0..<bytes {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            content[index] = UInt8(truncatingIfNeeded: state)
        }
        try Data(content).write(to: file)
        return file
    }
}
