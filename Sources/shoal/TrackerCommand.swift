import ArgumentParser
import Foundation
import ShoalCore
import ShoalEngine
import ShoalTracker

struct TrackerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tracker",
        abstract: "Run a BitTorrent tracker (HTTP and UDP announce, scrape, stats).",
        discussion: "HTTP: GET /announce, GET /scrape and GET /stats (add ?format=json for JSON). UDP: BEP 15 on --udp-port."
    )

    @Option(help: "Address to bind.")
    var bind: String = "127.0.0.1"

    @Option(help: "HTTP port.")
    var httpPort: Int = 6969

    // Unconditional, so "--udp-port -1" reads as a value and not as an unknown flag.
    @Option(parsing: .unconditional, help: "UDP port (BEP 15); the same as the HTTP port by default, -1 to turn UDP off.")
    var udpPort: Int?

    @Option(help: "Announce interval told to clients, in seconds.")
    var interval: Int = 1800

    @Option(help: "A file of info-hashes (40 hex digits, one per line); others are refused.")
    var whitelist: String?

    func validate() throws {
        guard (0...65535).contains(httpPort) else { throw ValidationError("--http-port must be 0-65535") }
        if let udpPort { guard (-1...65535).contains(udpPort) else { throw ValidationError("--udp-port must be 0-65535 or -1") } }
        guard interval >= 1 else { throw ValidationError("--interval must be at least 1") }
    }

    func run() async throws {
        var allowed: Set<InfoHash>?
        if let whitelist {
            guard let text = try? String(contentsOfFile: whitelist, encoding: .utf8) else {
                throw fail("\(whitelist): cannot read the whitelist")
            }
            var hashes = Set<InfoHash>()
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                guard let hash = InfoHash(text: trimmed) else { throw fail("\(whitelist):\(number + 1): not an info-hash") }
                hashes.insert(hash)
            }
            allowed = hashes
        }
        let server: TrackerServer
        do {
            // With an HTTP port of 0 the kernel picks one; UDP then picks its own too.
            let udp = udpPort ?? (httpPort == 0 ? 0 : httpPort)
            // The soft descriptor limit is raised first; most of it goes to client connections.
            server = try await TrackerServer.start(bind: bind, httpPort: httpPort, udpPort: udp < 0 ? nil : udp,
                                                   interval: interval, whitelist: allowed,
                                                   maxConnections: DescriptorBudget.shared.sockets)
        } catch {
            throw fail("cannot listen on \(bind) (HTTP \(httpPort)): \(error)")
        }
        if let udpURL = server.udpAnnounceURL { say("tracker: \(udpURL)") }
        say("tracker: \(server.announceURL)")
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await server.run() }
            group.addTask {
                for await _ in SignalStream.termination() {
                    await server.shutdown()
                    return
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
