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

    @Option(help: "Address to listen on (repeatable; default 127.0.0.1 and ::1, both loopbacks). IPv6 askers get IPv6 peers.")
    var bind: [String] = []

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
        // One tracker on every address: the first listener's swarms are shared by the others,
        // which take the ports it got (with port 0 the kernel picks them for the first).
        var servers: [TrackerServer] = []
        let explicit = !bind.isEmpty
        let addresses = explicit ? bind : ["127.0.0.1", "::1"]
        for address in addresses {
            let first = servers.first
            let http = first?.httpPort ?? httpPort
            let udp = first.map { $0.udpPort ?? -1 } ?? udpPort ?? (httpPort == 0 ? 0 : httpPort)
            do {
                // The soft descriptor limit is raised first; most of it goes to client connections.
                servers.append(try await TrackerServer.start(bind: address, httpPort: http, udpPort: udp < 0 ? nil : udp,
                                                             interval: interval, whitelist: allowed,
                                                             // The listeners share the connection budget.
                                                             maxConnections: DescriptorBudget.shared.sockets / addresses.count,
                                                             core: first?.core))
            } catch where !explicit && first != nil {
                // A machine without IPv6 still gets its IPv4 tracker.
                warn("not listening on \(address): \(error)")
            } catch {
                for server in servers { await server.shutdown() }
                throw fail("cannot listen on \(address) (HTTP \(http)): \(error)")
            }
        }
        let listening = servers
        for server in listening {
            if let udpURL = server.udpAnnounceURL { say("tracker: \(udpURL)") }
            say("tracker: \(server.announceURL)")
        }
        await withTaskGroup(of: Void.self) { group in
            for server in listening { group.addTask { await server.run() } }
            group.addTask {
                for await _ in SignalStream.termination() {
                    for server in listening { await server.shutdown() }
                    return
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
