import Foundation
import ShoalTestSupport
import Testing

/// Shoal as users run it, under trouble: a file-size limit (RLIMIT_FSIZE, a full disk as far as
/// the process can tell) and kill -9 at random moments.
@Suite("Disk trouble and hard kills", .serialized)
struct DiskTroubleTests {
    /// Two torrents under `ulimit -f`: the one that outgrows the limit stops with the error, the
    /// other completes; restarted without the limit, the stopped one finishes.
    @Test func fileSizeLimitStopsOnlyTheTorrentThatHitsIt() async throws {
        let directory = try TemporaryDirectory()
        let shoal = ShoalBinary.url.path
        let tracker = try await TrackerProcess.start(interval: 5)
        let big = try directory.write("seed/big.bin", bytes: 1_500_000, seed: 51)
        let small = try directory.write("seed/small.bin", bytes: 40_000, seed: 52)
        var torrents: [String] = []
        for file in [big, small] {
            let path = directory.url.appendingPathComponent(file.lastPathComponent + ".torrent").path
            #expect(try await ShoalBinary.run(["create", file.path, "-t", tracker.httpURL, "-o", path]).status == 0)
            torrents.append(path)
        }
        let seeder = try ExternalProcess(shoal, ["--headless", "--bind", "127.0.0.1", "--port", "0", "--download-dir",
                                                 big.deletingLastPathComponent().path, "--state-dir",
                                                 directory.url.appendingPathComponent("seed-state").path] + torrents, logName: "fsize-seed")
        for name in ["big.bin", "small.bin"] {
            #expect(await seeder.waitForOutput("tracker: \(name): \(tracker.httpURL): working", timeout: .seconds(60)), "\(seeder.output)")
        }
        let leechDir = directory.url.appendingPathComponent("leech")
        let state = directory.url.appendingPathComponent("leech-state")
        let arguments = ["--headless", "--bind", "127.0.0.1", "--port", "0", "--download-dir", leechDir.path, "--state-dir", state.path]
        // 400 KiB: room for the small file and Shoal's own state, not for the big file.
        let limited = try ExternalProcess("/bin/bash", ["-c", "ulimit -f 400; exec \"$0\" \"$@\"", shoal] + arguments + torrents,
                                          logName: "fsize-leech")
        #expect(await limited.waitForOutput("completed: small.bin", timeout: .seconds(60)), "\(limited.output)")
        #expect(await limited.waitForOutput("error: big.bin:", timeout: .seconds(60)), "\(limited.output)")
        #expect(limited.output.contains("too large") || limited.output.contains("File too large"), "\(limited.output)")
        limited.process.terminate()
        #expect(await limited.wait(timeout: .seconds(15)) == 0, "a stopped torrent does not make the process fail")

        let free = try ExternalProcess(shoal, arguments + ["--exit-when-done"], logName: "fsize-retry")
        #expect(await free.wait(timeout: .seconds(90)) == 0, "\(free.output)")
        #expect(FileManager.default.contentsEqual(atPath: big.path, andPath: leechDir.appendingPathComponent("big.bin").path))
        #expect(FileManager.default.contentsEqual(atPath: small.path, andPath: leechDir.appendingPathComponent("small.bin").path))
        await seeder.stop()
        _ = await tracker.interrupt()
    }

    /// kill -9 at random moments, 20 times, during a download; each restart resumes. The data
    /// ends byte-identical, and what was fetched twice is bounded by what can be in flight.
    @Test func twentyHardKillsLoseOnlyWhatWasInFlight() async throws {
        let directory = try TemporaryDirectory()
        let shoal = ShoalBinary.url.path
        let tracker = try await TrackerProcess.start(interval: 5)
        let size = 12 << 20
        let content = try directory.write("seed/film.bin", bytes: size, seed: 53)
        let torrent = directory.url.appendingPathComponent("film.torrent").path
        #expect(try await ShoalBinary.run(["create", content.path, "-t", tracker.httpURL, "-o", torrent, "--piece-size", "65536"]).status == 0)
        let seeder = try ExternalProcess(shoal, ["--headless", "--bind", "127.0.0.1", "--port", "0", "--up-kib", "256",
                                                 "--download-dir", content.deletingLastPathComponent().path, "--state-dir",
                                                 directory.url.appendingPathComponent("seed-state").path, "--interval", "0.5", torrent],
                                         logName: "kill-seed")
        #expect(await seeder.waitForOutput("tracker: film.bin: \(tracker.httpURL): working", timeout: .seconds(60)), "\(seeder.output)")
        let leechDir = directory.url.appendingPathComponent("leech")
        let arguments = ["--headless", "--bind", "127.0.0.1", "--port", "0", "--download-dir", leechDir.path,
                         "--state-dir", directory.url.appendingPathComponent("leech-state").path, torrent]
        var random = SeededRandom(seed: 54)
        var kills = 0
        while kills < 20 {
            let leecher = try ExternalProcess(shoal, arguments, logName: "kill-leech-\(kills)")
            // Somewhere between just started and well into the transfer.
            try await Task.sleep(for: .milliseconds(Int.random(in: 100...500, using: &random)))
            if leecher.output.contains("completed: film.bin") { break }
            kill(leecher.process.processIdentifier, SIGKILL)
            _ = await leecher.wait(timeout: .seconds(10))
            kills += 1
        }
        #expect(kills == 20, "the download should outlast 20 kills at 256 KiB/s")
        let last = try ExternalProcess(shoal, arguments.dropLast() + ["--exit-when-done", torrent], logName: "kill-final")
        #expect(await last.wait(timeout: .seconds(120)) == 0, "\(last.output)")
        #expect(FileManager.default.contentsEqual(atPath: content.path, andPath: leechDir.appendingPathComponent("film.bin").path))
        // The seeder's upload total: the file, plus what each kill lost in flight (blocks received
        // but not yet verified and written, and what was still in the socket).
        seeder.process.terminate()
        _ = await seeder.wait(timeout: .seconds(15))
        let sessionFile = directory.url.appendingPathComponent("seed-state/session.json")
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: sessionFile)) as? [String: Any]
        let uploaded = ((saved?["torrents"] as? [[String: Any]])?.first?["uploaded"] as? NSNumber)?.intValue ?? -1
        let refetched = uploaded - size
        print("hard kills: \(kills), sent by the seeder \(uploaded) bytes for a \(size)-byte file (\(refetched) fetched again)")
        #expect(uploaded >= size)
        #expect(refetched <= kills * (1 << 20), "at most about one MiB in flight per kill: \(refetched) bytes over \(kills) kills")
        _ = await tracker.interrupt()
    }

    /// A 10,000-file torrent between two processes under `ulimit -n 256`: the leecher keeps a
    /// bounded pool of open files, closes the least recently used, and finishes (the first
    /// release failed with "Too many open files" at 8.8 % and then died of SIGILL).
    @Test func tenThousandFilesUnderALowDescriptorLimit() async throws {
        let directory = try TemporaryDirectory()
        let shoal = ShoalBinary.url.path
        let root = directory.url.appendingPathComponent("seed/many")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for number in 0..<10_000 {
            let folder = root.appendingPathComponent(String(format: "d%02d", number / 100))
            if number % 100 == 0 { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
            try Data(SwarmHarness.bytes(97 + number % 13, seed: UInt64(number))).write(to: folder.appendingPathComponent("f\(number).txt"))
        }
        let torrent = directory.url.appendingPathComponent("many.torrent").path
        let limited = { (arguments: [String]) in ["-c", "ulimit -n 256; exec \"$0\" \"$@\"", shoal] + arguments }
        let created = try await ShoalBinary.execute(URL(fileURLWithPath: "/bin/bash"),
                                                         limited(["create", root.path, "-o", torrent, "--piece-size", "16384"]))
        #expect(created.status == 0, "\(created.stderr)")
        let seedPort = ExternalProcess.freePort()
        let seeder = try ExternalProcess("/bin/bash", limited(["--headless", "--bind", "127.0.0.1", "--port", String(seedPort),
                                                               "--download-dir", root.deletingLastPathComponent().path,
                                                               "--state-dir", directory.url.appendingPathComponent("seed-state").path,
                                                               torrent]), logName: "many-seed")
        #expect(await seeder.waitForOutput("completed: many", timeout: .seconds(120)), "\(seeder.output)")
        let leechDir = directory.url.appendingPathComponent("leech")
        let leecher = try ExternalProcess("/bin/bash", limited(["--headless", "--exit-when-done", "--bind", "127.0.0.1", "--port", "0",
                                                                "--peer", "127.0.0.1:\(seedPort)", "--download-dir", leechDir.path,
                                                                "--state-dir", directory.url.appendingPathComponent("leech-state").path,
                                                                torrent]), logName: "many-leech")
        let status = await leecher.wait(timeout: .seconds(180))
        #expect(status == 0, "\(leecher.output.suffix(2000))")
        #expect(!leecher.output.contains("Too many open files"))
        #expect(FileManager.default.contentsEqual(atPath: root.path, andPath: leechDir.appendingPathComponent("many").path))
        #expect(seeder.process.isRunning, "the seeder survived too: \(seeder.output.suffix(1000))")
        await seeder.stop()
    }
}
