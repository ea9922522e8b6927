import Foundation
import ShoalTestSupport

/// Runs the `shoal` executable built beside the test bundle, and other programs, capturing output.
enum ShoalBinary {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static let url = ExternalProcess.shoalExecutable

    /// Runs to the end, waiting with `Task.sleep`: never blocking a thread of the cooperative
    /// pool (two on a 2-core machine, shared with every session the other tests run in-process).
    static func run(_ arguments: [String], in directory: URL? = nil, timeout: Duration = .seconds(120)) async throws -> Result {
        try await execute(url, arguments, in: directory, timeout: timeout)
    }

    static func execute(_ program: URL, _ arguments: [String], in directory: URL? = nil,
                             timeout: Duration = .seconds(120)) async throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out"), errURL = scratch.appendingPathComponent("err")
        for file in [outURL, errURL] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        let outHandle = try FileHandle(forWritingTo: outURL), errHandle = try FileHandle(forWritingTo: errURL)
        defer { try? outHandle.close(); try? errHandle.close() }
        let process = try SpawnedProcess(program.path, arguments, directory: directory?.path, output: outHandle.fileDescriptor,
                                         error: errHandle.fileDescriptor)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let timedOut = process.isRunning
        if timedOut {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let out = String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self)
        let err = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
        return Result(status: timedOut ? -1 : process.terminationStatus, stdout: out, stderr: timedOut ? "timed out\n" + err : err)
    }

    static func tool(_ name: String) -> URL? { ExternalProcess.which(name).map(URL.init(fileURLWithPath:)) }

    static func hasTools(_ names: String...) -> Bool { names.allSatisfy { ExternalProcess.available($0) } }
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
        try Data(SwarmHarness.bytes(bytes, seed: seed)).write(to: file)
        return file
    }
}
