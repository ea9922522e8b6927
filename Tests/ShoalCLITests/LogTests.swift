import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// `--log-level`, `--log-file` and what the log says: the reasons connections end, above all
/// the ban of a peer that sent bad data.
@Suite("shoal's log", .serialized)
struct LogTests {
    /// A download from an honest seeder and a liar, headless at `--log-level debug`: stderr
    /// and the log file show the ban and why, with the torrent and the peer.
    @Test func headlessDebugLogShowsTheBanAndWhy() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "liar-test.bin", files: nil, singleSize: 48 * 16_384 + 7, pieceLength: 32 << 10,
                                              in: seedDir, seed: 21, trackers: [])
        let file = harness.root.appendingPathComponent("liar-test.torrent")
        try Data(torrent.fileBytes).write(to: file)
        let liar = try await ScriptedPeer(metainfo: torrent) { block in [UInt8](repeating: 0x5A, count: block.length) }
        let liarTask = Task { await liar.run() }
        let seeder = try await harness.startSession("seed")
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })

        let state = harness.root.appendingPathComponent("state")
        // The liar first and alone for a moment: it is asked for data before the seeder answers.
        let result = try await ShoalBinary.run([
            // --no-utp: the liar speaks TCP only, and a uTP dial to it would wait out the SYN's
            // three seconds while the seeder delivered everything.
            "--headless", "--no-utp", "--bind", "127.0.0.1", "--port", "0", "--log-level", "debug", "--exit-when-done",
            "--download-dir", harness.root.appendingPathComponent("leech").path, "--state-dir", state.path,
            "--peer", liar.address.description, "--peer", "127.0.0.1:\(seeder.listenPort)", file.path,
        ], timeout: .seconds(90))
        #expect(result.status == 0, "\(result.stderr)")
        let ban = result.stderr.split(separator: "\n").first { $0.contains(" notice banned \(liar.address)") }
        #expect(ban != nil, "\(result.stderr)")
        #expect(ban?.contains("reason=\"banned for bad data: sent data that failed the hash check\"") == true)
        #expect(ban?.contains("torrent=liar-test.bin") == true)
        // Every close has its reason at debug, and the headless line for the ban is still there.
        #expect(result.stderr.contains(" debug closed ") && result.stderr.contains("peer=\(liar.address)"))
        #expect(result.stdout.contains("banned: liar-test.bin: \(liar.address)"), "\(result.stdout)")
        // At debug the headless output also counts how connections ended, per torrent.
        #expect(result.stdout.split(separator: "\n").contains { $0.hasPrefix("closed: liar-test.bin: closed ") && $0.contains(" bad data") },
                "\(result.stdout)")
        let log = try String(contentsOf: state.appendingPathComponent("shoal.log"), encoding: .utf8)
        #expect(log.contains(" notice banned \(liar.address)"), "the log file in the state directory has it too")
        #expect(log.contains(" info starting "))
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("liar-test.bin"),
                                          harness.root.appendingPathComponent("leech/liar-test.bin")))
        await harness.stopAll()
        await liar.stop()
        await liarTask.value
    }

    /// At `--log-level debug` the headless output names each peer as it connects, with its
    /// flags: `E` for an encrypted one (both sides at the default `--encryption prefer`).
    @Test func headlessDebugShowsEncryptedPeers() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "veiled.bin", files: nil, singleSize: 1 << 20, pieceLength: 32 << 10,
                                              in: seedDir, seed: 22, trackers: [])
        let file = harness.root.appendingPathComponent("veiled.torrent")
        try Data(torrent.fileBytes).write(to: file)
        // Capped, so the connection lasts several of the printer's intervals.
        let seeder = try await harness.startSession("seed") { $0.uploadLimit = 256 << 10 }
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        let result = try await ShoalBinary.run([
            "--headless", "--bind", "127.0.0.1", "--port", "0", "--log-level", "debug", "--exit-when-done", "--interval", "0.2",
            "--download-dir", harness.root.appendingPathComponent("leech").path, "--state-dir", harness.root.appendingPathComponent("state").path,
            "--peer", "127.0.0.1:\(seeder.listenPort)", file.path,
        ], timeout: .seconds(90))
        #expect(result.status == 0, "\(result.stderr)")
        let line = result.stdout.split(separator: "\n").first { $0.hasPrefix("peer: veiled.bin: 127.0.0.1:\(seeder.listenPort) ") }
        #expect(line?.split(separator: " ").last?.contains("E") == true, "\(result.stdout)")
        #expect(result.stderr.contains(" debug connected ") && result.stderr.contains("encrypted=true"), "\(result.stderr)")
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("veiled.bin"), harness.root.appendingPathComponent("leech/veiled.bin")))
        await harness.stopAll()
    }

    /// At the default level nothing below a warning reaches stderr; `--log-file` names the file
    /// (made absolute), and a bad level is a usage error.
    @Test func defaultLevelKeepsStderrQuietAndTheFileIsWhereAsked() async throws {
        let directory = try TemporaryDirectory()
        let logFile = directory.url.appendingPathComponent("logs/run.log")
        let result = try await ShoalBinary.run([
            "--headless", "--bind", "127.0.0.1", "--port", "0", "--exit-when-done", "--download-dir", directory.url.path,
            "--state-dir", directory.url.appendingPathComponent("state").path, "--log-file", "logs/run.log",
        ], in: directory.url)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains(" info ") && !result.stderr.contains(" debug "), "\(result.stderr)")
        #expect(!result.stdout.contains("closed: "), "the close counts are a debug-level line")
        let log = try String(contentsOf: logFile, encoding: .utf8)
        #expect(log.contains(" info starting "), "\(log)")
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("state/shoal.log").path))
        let bad = try await ShoalBinary.run(["--headless", "--log-level", "loud", "--state-dir", directory.url.path])
        #expect(bad.status == 64 || bad.status == 2, "\(bad.stderr)")
        #expect(bad.stderr.contains("--log-level must be one of trace, debug, info, notice, warning, error, critical"), "\(bad.stderr)")
    }
}
