import Foundation
import ShoalTestSupport

/// The `shoal` binary as a daemon for remote-control tests: headless, the RPC on a free port of
/// 127.0.0.1, peers on 127.0.0.1, its own state and download directories.
struct ShoalDaemon {
    let process: ExternalProcess
    let rpcPort: Int
    let downloadDir: URL

    static func start(in root: URL, name: String, extra: [String] = [], environment: [String: String] = [:]) async throws -> ShoalDaemon {
        let downloadDir = root.appendingPathComponent(name + "-downloads")
        let state = root.appendingPathComponent(name + "-state")
        let config = root.appendingPathComponent(name + ".toml")
        try FileManager.default.createDirectory(at: downloadDir, withIntermediateDirectories: true)
        try Data().write(to: config)
        let rpcPort = ExternalProcess.freePort()
        let process = try ExternalProcess(ExternalProcess.shoalExecutable.path, [
            "--headless", "--rpc", "--rpc-port", String(rpcPort), "--port", "0", "--bind", "127.0.0.1",
            "--download-dir", downloadDir.path, "--state-dir", state.path, "--config", config.path, "--interval", "60",
            "--min-announce-interval", "1",
        ] + extra, environment: environment, logName: name)
        let daemon = ShoalDaemon(process: process, rpcPort: rpcPort, downloadDir: downloadDir)
        guard await process.waitForOutput("RPC on", timeout: .seconds(30)) else {
            throw DaemonFailure(description: "the daemon did not start its RPC: \(process.output)")
        }
        return daemon
    }

    /// transmission-remote against this daemon: its exit status and output.
    func remote(_ arguments: [String]) async -> (status: Int32?, output: String) {
        guard let run = try? ExternalProcess(TransmissionDaemon.remote, [String(rpcPort)] + arguments, logName: "transmission-remote") else {
            return (nil, "")
        }
        let status = await run.wait(timeout: .seconds(20))
        return (status, run.output)
    }

    /// The `-l` row of the torrent named `name`, if listed.
    func listRow(_ name: String) async -> String? {
        await remote(["-l"]).output.split(separator: "\n").first { $0.hasSuffix(" " + name) }.map(String.init)
    }

    var pid: Int32 { process.process.processIdentifier }

    /// Resident memory in KiB, from /proc.
    var residentKiB: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
}

struct DaemonFailure: Error, CustomStringConvertible {
    let description: String
}
