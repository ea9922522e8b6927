import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// `shoal attach` in tmux against a daemon (`shoal --headless --rpc`) downloading from a seeder
/// through `shoal tracker`: add a torrent through the prompt, pause it, open its piece map,
/// detach with q (the daemon keeps going), lose the daemon and see it come back, reattach.
@Suite("shoal attach in tmux", .serialized)
struct AttachTests {
    @Test(.enabled(if: ExternalProcess.available("tmux")))
    func addPausePieceMapDetachReattach() async throws {
        let directory = try TemporaryDirectory()
        let shoal = ShoalBinary.url.path
        let tracker = try await TrackerProcess.start(interval: 5)
        let content = try directory.write("seed/movie.bin", bytes: 6_000_000, seed: 5)
        let torrent = directory.url.appendingPathComponent("movie.torrent")
        #expect(try await ShoalBinary.run(["create", content.path, "-t", tracker.httpURL, "-o", torrent.path]).status == 0)
        let seeder = try ExternalProcess(shoal, ["--headless", "--bind", "127.0.0.1", "--port", "0", "--up-kib", "300",
                                                 "--download-dir", content.deletingLastPathComponent().path,
                                                 "--state-dir", directory.url.appendingPathComponent("seed-state").path, torrent.path],
                                         logName: "attach-seed")
        defer { seeder.stop() }
        #expect(await seeder.waitForOutput("tracker: movie.bin: \(tracker.httpURL): working", timeout: .seconds(60)), "\(seeder.output)")
        let rpcPort = ExternalProcess.freePort()
        let daemonArguments = ["--headless", "--rpc", "--rpc-port", String(rpcPort), "--bind", "127.0.0.1", "--port", "0",
                               "--download-dir", directory.url.appendingPathComponent("leech").path,
                               "--state-dir", directory.url.appendingPathComponent("daemon-state").path, "--interval", "60"]
        var daemon = try ExternalProcess(shoal, daemonArguments, logName: "attach-daemon")
        defer { daemon.stop() }
        #expect(await daemon.waitForOutput("RPC on", timeout: .seconds(30)), "\(daemon.output)")

        let detached = directory.url.appendingPathComponent("detached")
        let attach = "LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color '\(shoal)' attach \(rpcPort); echo $? > '\(detached.path)'"
        var tmux = try await TmuxSession.start(attach)
        let empty = try await tmux.waitFor(.seconds(30)) { $0.contains("attached to 127.0.0.1:\(rpcPort)") && $0.contains("No torrents") }
        #expect(empty.contains("No torrents") && empty.contains("q detach"), "\(empty)")

        try await tmux.keys("a")
        try await tmux.type(torrent.path)
        try await tmux.keys("Enter")
        let added = try await tmux.waitFor(.seconds(60)) { TmuxSession.line($0, "movie.bin").contains("downloading") }
        #expect(TmuxSession.line(added, "movie.bin").contains("downloading"), "\(added)")
        try await tmux.keys("p")
        let paused = try await tmux.waitFor(.seconds(20)) { TmuxSession.line($0, "movie.bin").contains("paused") }
        #expect(TmuxSession.line(paused, "movie.bin").contains("paused"), "\(paused)")
        // The daemon itself stopped it: ask it, not the screen.
        let client = RPCClient(url: String(rpcPort))
        let rows = try await client.call("torrent-get", ["fields": ["name", "status"]])["torrents"]?.array
        #expect(rows?.first?["status"]?.int == 0, "\(String(describing: rows))")

        // Labels, this torrent's upload cap, the turtle and a move, each carried out by the daemon.
        try await tmux.keys("b")
        try await tmux.type("films, new")
        try await tmux.keys("Enter")
        try await tmux.keys("U")
        try await tmux.type("300")
        try await tmux.keys("Enter")
        try await tmux.keys("t")
        let moved = directory.url.appendingPathComponent("moved").path
        try await tmux.keys("m")
        _ = try await tmux.waitFor(.seconds(10)) { $0.contains("Move the data to:") }
        for _ in 0..<120 { try await tmux.keys("BSpace") }
        try await tmux.type(moved)
        try await tmux.keys("Enter")
        let carried = await SwarmHarness.poll(timeout: .seconds(30)) {
            let row = try? await client.call("torrent-get", ["fields": ["labels", "downloadDir", "shoal-detail"]])["torrents"]?.array?.first
            let turtle = try? await client.call("session-get", ["fields": ["alt-speed-enabled"]])["alt-speed-enabled"]?.bool
            return row?["labels"] == ["films", "new"] && row?["shoal-detail"]?["uploadLimit"]?.int == 300 * 1024
                && row?["downloadDir"]?.string == moved && turtle == true
        }
        #expect(carried, "the daemon has the labels, the cap, the turtle and the new place")
        #expect(FileManager.default.fileExists(atPath: moved + "/movie.bin") || !FileManager.default.fileExists(
            atPath: directory.url.appendingPathComponent("leech/movie.bin").path), "the data moved with it")
        try await tmux.keys("Enter")
        try await tmux.keys("6")
        let details = try await tmux.waitFor(.seconds(20)) { $0.contains("films, new") && $0.contains("300.00 KiB/s") }
        #expect(details.contains("Labels") && details.contains("films, new") && details.contains(moved), "\(details)")
        let status = TmuxSession.line(details, "port ")
        #expect(status.contains("turtle limit"), "\(status)")
        try await tmux.keys("Escape")
        // The daemon's log, read through the RPC: the move is in it.
        try await tmux.keys("L")
        let log = try await tmux.waitFor(.seconds(20)) { $0.contains("info moved") }
        #expect(log.contains("Log: lines") && log.contains("info moved"), "\(log)")
        try await tmux.keys("Escape")

        try await tmux.keys("p")
        try await tmux.keys("Enter")
        try await tmux.keys("1")
        // The piece map: the header says how many pieces, the map draws them.
        let map = try await tmux.waitFor(.seconds(30)) { screen in
            screen.contains("Pieces") && screen.split(separator: "\n").contains { $0.contains("█") && !$0.contains("%") }
        }
        #expect(map.split(separator: "\n").contains { $0.contains("█") && !$0.contains("%") }, "\(map)")

        // The daemon goes away: a banner, and the interface waits for it to come back.
        await daemon.stop()
        // A request under way when it stopped is cut off first ("closed"); the next is refused.
        let lost = try await tmux.waitFor(.seconds(20)) { $0.contains("connection refused") && $0.contains("retrying") }
        #expect(lost.contains("connection refused") && lost.contains("retrying"), "\(lost)\n\(daemon.output.suffix(3000))")
        daemon = try ExternalProcess(shoal, daemonArguments, logName: "attach-daemon-2")
        #expect(await daemon.waitForOutput("RPC on", timeout: .seconds(30)), "\(daemon.output)")
        let back = try await tmux.waitFor(.seconds(30)) { !$0.contains("retrying") && $0.contains("movie.bin") }
        #expect(!back.contains("retrying"), "\(back)")

        try await tmux.keys("q")
        #expect(await SwarmHarness.poll(timeout: .seconds(20)) { FileManager.default.fileExists(atPath: detached.path) })
        #expect((try? String(contentsOf: detached, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        #expect(daemon.process.isRunning, "q detaches: the daemon keeps running")
        await tmux.stop()

        tmux = try await TmuxSession.start(attach)
        let again = try await tmux.waitFor(.seconds(30)) { TmuxSession.line($0, "movie.bin").contains("%") }
        #expect(TmuxSession.line(again, "movie.bin").contains("%"), "\(again)")
        try await tmux.keys("q")
        #expect(await SwarmHarness.poll(timeout: .seconds(20)) { daemon.process.isRunning })
        await tmux.stop()
        _ = await tracker.interrupt()
    }
}
