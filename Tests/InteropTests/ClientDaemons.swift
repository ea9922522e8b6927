import Foundation
import ShoalTestSupport

/// transmission-daemon for a test: its own config directory, peers and RPC on 127.0.0.1 only,
/// DHT, LPD, PEX, uTP and port mapping off; torrents added through transmission-remote.
struct TransmissionDaemon {
    let process: ExternalProcess
    let rpcPort: Int
    let peerPort: Int

    static let remote = ExternalProcess.which("transmission-remote") ?? "/usr/bin/transmission-remote"

    /// `encryption`: 0 tolerated, 1 preferred, 2 required (settings.json's values).
    static func start(in root: URL, name: String, downloadDir: URL, encryption: Int) throws -> TransmissionDaemon {
        let config = root.appendingPathComponent(name + "-config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: downloadDir, withIntermediateDirectories: true)
        let rpcPort = ExternalProcess.freePort()
        let peerPort = ExternalProcess.freePort()
        let settings: [String: Any] = [
            "dht-enabled": false, "lpd-enabled": false, "pex-enabled": false, "utp-enabled": false, "port-forwarding-enabled": false,
            "encryption": encryption, "peer-port": peerPort, "peer-port-random-on-start": false,
            "rpc-port": rpcPort, "rpc-bind-address": "127.0.0.1", "rpc-whitelist-enabled": true, "rpc-whitelist": "127.0.0.1",
            "rpc-authentication-required": false, "rpc-host-whitelist-enabled": false,
            "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1", "download-dir": downloadDir.path,
            "incomplete-dir-enabled": false, "ratio-limit-enabled": false, "blocklist-enabled": false, "message-level": 2,
            "start-added-torrents": true,
        ]
        try JSONSerialization.data(withJSONObject: settings).write(to: config.appendingPathComponent("settings.json"))
        let process = try ExternalProcess(ExternalProcess.which("transmission-daemon") ?? "/usr/bin/transmission-daemon",
                                          ["-f", "-g", config.path, "--log-info"], logName: name)
        return TransmissionDaemon(process: process, rpcPort: rpcPort, peerPort: peerPort)
    }

    /// Runs transmission-remote against this daemon; its output, or nil if it failed.
    func remote(_ arguments: [String]) async -> String? {
        guard let run = try? ExternalProcess(Self.remote, [String(rpcPort)] + arguments, logName: "transmission-remote"),
              await run.wait(timeout: .seconds(10)) == 0 else { return nil }
        return run.output
    }

    /// Adds `torrent` once the daemon answers (it takes a moment to open its RPC port).
    func add(_ torrent: URL, harness: SwarmHarness) async -> Bool {
        await harness.waitUntil(timeout: .seconds(20)) { await remote(["-a", torrent.path])?.contains("success") == true }
    }

    /// True once the torrent's list row shows 100 % (verified, for a seeder).
    func isComplete() async -> Bool {
        guard let list = await remote(["-l"]) else { return false }
        return list.split(separator: "\n").contains { $0.contains("100%") && !$0.hasPrefix("Sum") }
    }
}

/// rTorrent in daemon mode for a test: an rc file of its own, listening on 127.0.0.1, DHT and
/// PEX off, UDP trackers off; `done` is touched when a download finishes.
struct RTorrentDaemon {
    let process: ExternalProcess
    let port: Int
    let done: URL

    static func start(in root: URL, name: String, directory: URL, torrent: URL, encryption: String) throws -> RTorrentDaemon {
        let home = root.appendingPathComponent(name + "-rtorrent")
        let session = home.appendingPathComponent("session")
        try FileManager.default.createDirectory(at: session, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let port = ExternalProcess.freePort()
        let done = home.appendingPathComponent("done")
        let rc = """
            system.daemon.set = true
            directory.default.set = \(directory.path)
            session.path.set = \(session.path)
            network.port_range.set = \(port)-\(port)
            network.port_random.set = no
            network.bind_address.set = 127.0.0.1
            network.local_address.set = 127.0.0.1
            dht.mode.set = disable
            protocol.pex.set = no
            trackers.use_udp.set = no
            protocol.encryption.set = \(encryption)
            log.open_file = "main", \(home.appendingPathComponent("rtorrent.log").path)
            log.add_output = "info", "main"
            method.set_key = event.download.finished, shoal_done, "execute.nothrow = touch, \(done.path)"
            load.start_verbose = \(torrent.path)

            """
        let rcFile = home.appendingPathComponent("rc")
        try rc.write(to: rcFile, atomically: true, encoding: .utf8)
        let process = try ExternalProcess(ExternalProcess.which("rtorrent") ?? "/usr/bin/rtorrent", ["-n", "-o", "import=\(rcFile.path)"],
                                          directory: home, logName: name)
        return RTorrentDaemon(process: process, port: port, done: done)
    }

    var log: String {
        (try? String(contentsOf: done.deletingLastPathComponent().appendingPathComponent("rtorrent.log"), encoding: .utf8)) ?? ""
    }

    /// Its peer port takes connections (its log is written too late to tell).
    func isListening() async -> Bool { await LoopbackSocket.exchange([], port: port, timeout: 0.1) != nil }
    var finished: Bool { FileManager.default.fileExists(atPath: done.path) }
}
