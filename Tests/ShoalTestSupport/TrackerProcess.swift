import Foundation

/// `shoal tracker` run as its own process on 127.0.0.1 (HTTP and UDP on ports the kernel picks),
/// stopped when the value is released.
public struct TrackerProcess: Sendable {
    public let process: ExternalProcess
    public let httpURL: String
    public let udpURL: String

    public var httpPort: Int { Self.port(of: httpURL) }
    public var udpPort: Int { Self.port(of: udpURL) }

    private static func port(of url: String) -> Int {
        Int(url.split(separator: ":").last?.split(separator: "/").first ?? "") ?? 0
    }

    public static func start(interval: Int = 60, bind: String = "127.0.0.1") async throws -> TrackerProcess {
        let process = try ExternalProcess(ExternalProcess.shoalExecutable.path,
                                          ["tracker", "--bind", bind, "--http-port", "0", "--interval", String(interval)],
                                          logName: "tracker")
        guard await process.waitForOutput("tracker: http://", timeout: .seconds(60)) else {
            throw StartFailure(description: "shoal tracker did not start: \(process.output)")
        }
        let urls = process.output.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
        guard let http = urls.first(where: { $0.hasPrefix("http://") }), let udp = urls.first(where: { $0.hasPrefix("udp://") }) else {
            throw StartFailure(description: "shoal tracker printed no URLs: \(process.output)")
        }
        return TrackerProcess(process: process, httpURL: http, udpURL: udp)
    }

    /// SIGINT, as a user's Ctrl-C; returns the exit status (nil if it did not exit in time).
    public func interrupt() async -> Int32? {
        process.process.interrupt()
        return await process.wait(timeout: .seconds(10))
    }
}

public struct StartFailure: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}
