import Foundation
import ShoalEngine
import ShoalTestSupport

/// qbittorrent-nox for a test: a profile of its own, peers and WebUI bound to 127.0.0.1 on `lo`,
/// DHT, LSD, PEX, port mapping and the peer-country lookup (a database download) off; driven
/// through its WebUI API (v2), which lets 127.0.0.1 in without a login here.
struct QBittorrentDaemon {
    let process: ExternalProcess
    let webPort: Int
    let peerPort: Int

    static let executable = ExternalProcess.which("qbittorrent-nox") ?? "/usr/bin/qbittorrent-nox"
    static var available: Bool { ExternalProcess.available("qbittorrent-nox") }

    static func start(in root: URL, name: String, downloadDir: URL) throws -> QBittorrentDaemon {
        let profile = root.appendingPathComponent(name + "-profile")
        let config = profile.appendingPathComponent("qBittorrent/config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: downloadDir, withIntermediateDirectories: true)
        let webPort = ExternalProcess.freePort()
        let peerPort = ExternalProcess.freePort()
        let conf = """
            [LegalNotice]
            Accepted=true

            [BitTorrent]
            Session\\DHTEnabled=false
            Session\\LSDEnabled=false
            Session\\PeXEnabled=false
            Session\\Port=\(peerPort)
            Session\\Interface=lo
            Session\\InterfaceName=lo
            Session\\InterfaceAddress=127.0.0.1
            Session\\DefaultSavePath=\(downloadDir.path)
            Session\\TempPathEnabled=false
            Session\\QueueingSystemEnabled=false
            Session\\AddTorrentPaused=false

            [Network]
            PortForwardingEnabled=false

            [Preferences]
            Connection\\UPnP=false
            Connection\\ResolvePeerCountries=false
            WebUI\\Address=127.0.0.1
            WebUI\\Port=\(webPort)
            WebUI\\LocalHostAuth=false
            WebUI\\CSRFProtection=false
            WebUI\\HostHeaderValidation=false
            WebUI\\UseUPnP=false

            """
        try conf.write(to: config.appendingPathComponent("qBittorrent.conf"), atomically: true, encoding: .utf8)
        let process = try ExternalProcess(executable, ["--profile=\(profile.path)", "--webui-port=\(webPort)"], logName: name)
        return QBittorrentDaemon(process: process, webPort: webPort, peerPort: peerPort)
    }

    private var base: String { "http://127.0.0.1:\(webPort)/api/v2/" }

    /// Adds a .torrent file to be saved under `savePath` (its content there already, for a seed:
    /// qBittorrent checks it first). Waits for the WebUI to answer; false if it never took it.
    func add(_ torrent: URL, savePath: URL, harness: SwarmHarness) async -> Bool {
        guard let bytes = try? Array(Data(contentsOf: torrent)) else { return false }
        let file = "name=\"torrents\"; filename=\"\(torrent.lastPathComponent)\"\r\nContent-Type: application/x-bittorrent"
        return await add(form: [(file, bytes), ("name=\"savepath\"", Array(savePath.path.utf8))], harness: harness)
    }

    /// Adds a magnet link, its metadata to come from the peers.
    func add(magnet: String, savePath: URL, harness: SwarmHarness) async -> Bool {
        await add(form: [("name=\"urls\"", Array(magnet.utf8)), ("name=\"savepath\"", Array(savePath.path.utf8))], harness: harness)
    }

    /// `torrents/add` with a multipart form: each part's disposition parameters and content.
    private func add(form parts: [(String, [UInt8])], harness: SwarmHarness) async -> Bool {
        let boundary = "shoal-\(UUID().uuidString)"
        var body: [UInt8] = []
        for (disposition, content) in parts {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; \(disposition)\r\n\r\n".utf8) + content + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        let form = body
        let headers = [("Content-Type", "multipart/form-data; boundary=\(boundary)")]
        return await harness.waitUntil(timeout: .seconds(20)) {
            guard let reply = try? await HTTPClient.send(.POST, base + "torrents/add", headers: headers, body: form, timeout: .seconds(5))
            else { return false }
            return reply.status == 200 && String(decoding: reply.body, as: UTF8.self).contains("Ok")
        }
    }

    /// Tells it about a peer directly, besides whatever the tracker says.
    func addPeer(_ hash: String, port: Int) async {
        let body = Array("hashes=\(hash)&peers=127.0.0.1:\(port)".utf8)
        _ = try? await HTTPClient.send(.POST, base + "torrents/addPeers", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                       body: body, timeout: .seconds(5))
    }

    /// What it says of its torrents: hash (its id), infohash_v1/v2, progress (0...1), state.
    func torrents() async -> [[String: Any]] {
        guard let reply = try? await HTTPClient.fetch(base + "torrents/info", timeout: .seconds(5)), reply.status == 200,
              let list = try? JSONSerialization.jsonObject(with: Data(reply.body)) as? [[String: Any]] else { return [] }
        return list
    }

    /// Its only torrent is complete and checked: all of it held, seeding or ready to.
    static func isSeeding(_ torrent: [String: Any]) -> Bool {
        let seeding: Set<String> = ["uploading", "stalledUP", "queuedUP", "forcedUP", "pausedUP"]
        return (torrent["progress"] as? Double) == 1 && seeding.contains(torrent["state"] as? String ?? "")
    }
}
