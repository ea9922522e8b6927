import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// Real Transmission remotes against a Shoal daemon on 127.0.0.1: Debian's transmission-remote
/// and the transmission-rpc package from PyPI. The daemon downloads from an in-process seeder
/// through the test's tracker.
@Suite("Transmission remotes drive a Shoal daemon", .serialized)
struct RemoteControlInteropTests {
    struct Swarm {
        let harness: SwarmHarness
        let seeder: Session
        let album: Metainfo
        let albumTorrent: URL
        let single: Metainfo
        let seedDir: URL
    }

    /// A seeder with a multi-file torrent and a single-file one (added to the daemon as a magnet).
    static func swarm() async throws -> Swarm {
        let harness = try SwarmHarness()
        try await harness.startTracker(interval: 2)
        let seedDir = harness.root.appendingPathComponent("seed")
        let album = try harness.makeTorrent(name: "album", files: [("one.flac", 2_500_000), ("disc 2/two.flac", 1_500_000), ("notes.txt", 3_000)],
                                            pieceLength: 64 << 10, in: seedDir, seed: 21)
        let single = try harness.makeTorrent(name: "single.iso", files: nil, singleSize: 900_000, pieceLength: 32 << 10, in: seedDir, seed: 22)
        let seeder = try await harness.startSession("seed") { $0.downloadDirectory = seedDir.path }
        try await seeder.add(album)
        try await seeder.add(single)
        #expect(await harness.waitUntil(timeout: .seconds(60)) {
            await seeder.snapshot().torrents.allSatisfy { $0.activity == .seeding && $0.trackers.first?.status == "working" }
        })
        let albumTorrent = harness.root.appendingPathComponent("album.torrent")
        try Data(album.fileBytes).write(to: albumTorrent)
        return Swarm(harness: harness, seeder: seeder, album: album, albumTorrent: albumTorrent, single: single, seedDir: seedDir)
    }

    @Test(.enabled(if: ExternalProcess.available("transmission-remote")))
    func transmissionRemote() async throws {
        let swarm = try await Self.swarm()
        let harness = swarm.harness
        let daemon = try await ShoalDaemon.start(in: harness.root, name: "daemon")
        defer { daemon.process.stop() }

        // A limit first, so the download lasts long enough to see its peer.
        #expect(await daemon.remote(["-d", "400"]).output.contains("success"))
        #expect(await daemon.remote(["-si"]).output.contains("Download speed limit: 400 kB/s"))
        // The peer port and the session's connection limit, changed while it runs.
        let (probe, port) = try LoopbackSocket.listener()
        close(probe)
        #expect(await daemon.remote(["-p", "\(port)"]).output.contains("success"))
        #expect(await daemon.remote(["-pr", "120"]).output.contains("success"))
        let sessionInfo = await daemon.remote(["-si"]).output
        #expect(sessionInfo.contains("Listenport: \(port)") && sessionInfo.contains("Peer limit: 120"), "\(sessionInfo)")
        let taken = await daemon.remote(["-p", "\(harness.tracker.httpPort)"])
        #expect(!taken.output.contains("success") && taken.output.contains("peer-port"), "a port in use is refused: \(taken.output)")
        let added = await daemon.remote(["-a", swarm.albumTorrent.path])
        #expect(added.status == 0 && added.output.contains("success"), "\(added.output)")
        #expect(await daemon.remote(["-t", "1", "-pr", "7"]).output.contains("success"))
        let limited = await daemon.remote(["-t", "1", "-i"]).output
        #expect(limited.contains("Peer limit: 7"), "\(limited)")
        let sawPeer = await harness.waitUntil(timeout: .seconds(30)) { await daemon.remote(["-t", "1", "-pi"]).output.contains("127.0.0.1") }
        let peers = await daemon.remote(["-t", "1", "-pi"]).output
        #expect(sawPeer, "\(peers)")
        #expect(await daemon.remote(["-D"]).output.contains("success"))
        let albumDone = await harness.waitUntil(timeout: .seconds(60)) { await daemon.listRow("album")?.contains("100%") == true }
        let list = await daemon.remote(["-l"]).output
        #expect(albumDone, "\(list)")
        Self.expectSame(swarm.seedDir.appendingPathComponent("album"), daemon.downloadDir.appendingPathComponent("album"))

        let info = await daemon.remote(["-t", "1", "-i"]).output
        for line in ["Name: album", "Hash: \(swarm.album.infoHash.hex)", "Location: \(daemon.downloadDir.path)", "Percent Done: 100%",
                     "Total size: 4.00 MB", "Piece Count: 62"] {
            #expect(info.contains(line), "\(line) in \(info)")
        }
        let files = await daemon.remote(["-t", "1", "-f"]).output
        #expect(files.contains("album (3 files)") && files.contains("album/disc 2/two.flac") && files.contains("Yes"), "\(files)")
        #expect(files.contains("100% Normal"), "\(files)")

        let magnet = MagnetLink(infoHash: swarm.single.infoHash, displayName: "single.iso", trackers: [harness.tracker.announceURL]).uri
        #expect(await daemon.remote(["-a", magnet]).output.contains("success"))
        let magnetDone = await harness.waitUntil(timeout: .seconds(60)) { await daemon.listRow("single.iso")?.contains("100%") == true }
        let listed = await daemon.remote(["-l"]).output
        #expect(magnetDone, "\(listed)")
        Self.expectSame(swarm.seedDir.appendingPathComponent("single.iso"), daemon.downloadDir.appendingPathComponent("single.iso"))

        #expect(await daemon.remote(["-t", "1", "-S"]).output.contains("success"))
        let stopped = await daemon.listRow("album")
        #expect(stopped?.contains("Stopped") == true, "\(stopped ?? "no row")")
        #expect(await daemon.remote(["-t", "1", "-s"]).output.contains("success"))
        #expect(await harness.waitUntil(timeout: .seconds(20)) { await daemon.listRow("album")?.contains("Stopped") == false })
        #expect(await daemon.remote(["-t", "1", "-v"]).output.contains("success"))
        #expect(await harness.waitUntil(timeout: .seconds(60)) {
            let row = await daemon.listRow("album")
            return row?.contains("100%") == true && row?.contains("Verifying") == false
        })

        let elsewhere = harness.root.appendingPathComponent("moved")
        #expect(await daemon.remote(["-t", "1", "--move", elsewhere.path]).output.contains("success"))
        // The move goes on in the background, as in Transmission.
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await daemon.remote(["-t", "1", "-i"]).output.contains("Location: \(elsewhere.path)") })
        #expect(FileManager.default.fileExists(atPath: elsewhere.appendingPathComponent("album/disc 2/two.flac").path))
        #expect(!FileManager.default.fileExists(atPath: daemon.downloadDir.appendingPathComponent("album").path))
        #expect(await daemon.remote(["-t", "1", "-i"]).output.contains("Location: \(elsewhere.path)"))
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await daemon.listRow("album")?.contains("100%") == true })

        #expect(await daemon.remote(["-t", "1", "--remove-and-delete"]).output.contains("success"))
        #expect(await harness.waitUntil(timeout: .seconds(20)) { await daemon.listRow("album") == nil })
        #expect(!FileManager.default.fileExists(atPath: elsewhere.appendingPathComponent("album").path))
        #expect(await daemon.listRow("single.iso") != nil)
        await harness.stopAll()
    }

    /// Python's transmission-rpc (from PyPI, in the venv `.ci/run` makes) adds, reads every
    /// field its Torrent and Session model, stops, starts, verifies, sets, moves and removes.
    @Test(.enabled(if: RemoteControlInteropTests.venvPython != nil || ProcessInfo.processInfo.environment["CI"] != nil))
    func transmissionRPCPackage() async throws {
        let python = try #require(Self.venvPython, "no venv with transmission-rpc: run .ci/run, or set SHOAL_VENV")
        let swarm = try await Self.swarm()
        let harness = swarm.harness
        let daemon = try await ShoalDaemon.start(in: harness.root, name: "daemon-py")
        defer { daemon.process.stop() }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/rpc_client.py")
        let moved = harness.root.appendingPathComponent("moved-py")
        let run = try ExternalProcess(python, [script.path, String(daemon.rpcPort), swarm.albumTorrent.path, moved.path], logName: "rpc-client")
        let status = await run.wait(timeout: .seconds(180))
        #expect(status == 0, "\(run.output)\n--- daemon:\n\(daemon.process.output.suffix(2000))")
        #expect(run.output.contains("all checks passed"), "\(run.output)")
        await harness.stopAll()
    }

    /// stig (PyPI) in tmux: its list shows the daemon's torrent, and its `stop` command pauses it.
    @Test(.enabled(if: (RemoteControlInteropTests.venvPython != nil && ExternalProcess.available("tmux"))
        || ProcessInfo.processInfo.environment["CI"] != nil))
    func stigListsAndPauses() async throws {
        let python = try #require(Self.venvPython, "no venv with stig: run .ci/run, or set SHOAL_VENV")
        let stig = URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("stig").path
        let swarm = try await Self.swarm()
        let harness = swarm.harness
        let daemon = try await ShoalDaemon.start(in: harness.root, name: "daemon-stig")
        defer { daemon.process.stop() }
        #expect(await daemon.remote(["-a", swarm.albumTorrent.path]).output.contains("success"))
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await daemon.listRow("album")?.contains("100%") == true })
        // stig keeps its settings under $HOME; the test gives it a home of its own.
        let home = harness.root.appendingPathComponent("stig-home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let rc = home.appendingPathComponent("rc")
        try "set connect.host 127.0.0.1\nset connect.port \(daemon.rpcPort)\n".write(to: rc, atomically: true, encoding: .utf8)
        let tmux = try await TmuxSession.start("HOME='\(home.path)' LANG=C.UTF-8 TERM=xterm-256color '\(stig)' -c '\(rc.path)' --tui")
        defer { Task { await tmux.stop() } }
        let connected = try await tmux.waitFor(.seconds(30)) { $0.contains("Shoal") && $0.contains("all [1]") }
        #expect(connected.contains("all [1]"), "\(connected)")
        try await tmux.keys("M-2")
        let listed = try await tmux.waitFor(.seconds(20)) { TmuxSession.line($0, "album").contains("seeding") }
        #expect(TmuxSession.line(listed, "album").contains("seeding"), "\(listed)")
        try await tmux.keys(":")
        try await tmux.type("stop album")
        try await tmux.keys("Enter")
        let stopped = try await tmux.waitFor(.seconds(20)) { TmuxSession.line($0, "album").contains("stopped") }
        #expect(TmuxSession.line(stopped, "album").contains("stopped"), "\(stopped)")
        #expect(await harness.waitUntil(timeout: .seconds(10)) { await daemon.listRow("album")?.contains("Stopped") == true })
        await tmux.stop()
        await harness.stopAll()
    }

    static var venvPython: String? {
        let environment = ProcessInfo.processInfo.environment["SHOAL_VENV"]
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
        for candidate in [environment.map { $0 + "/bin/python" }, Optional(root.path + "/.build/venv/bin/python")].compactMap({ $0 })
            where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }

    static func expectSame(_ a: URL, _ b: URL, sourceLocation: SourceLocation = #_sourceLocation) {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: a.path, isDirectory: &isDirectory)
        let paths = isDirectory.boolValue ? (FileManager.default.enumerator(atPath: a.path)?.allObjects as? [String] ?? []) : [""]
        for path in paths {
            let left = path.isEmpty ? a : a.appendingPathComponent(path)
            var inner: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: left.path, isDirectory: &inner)
            if inner.boolValue { continue }
            let right = path.isEmpty ? b : b.appendingPathComponent(path)
            #expect(SwarmHarness.sameContents(left, right), "\(right.path) differs", sourceLocation: sourceLocation)
        }
    }
}
