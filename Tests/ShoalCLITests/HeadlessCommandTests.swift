import Foundation
import ShoalCore
import ShoalTestSupport
import Testing

/// The headless interface is a contract: flags, progress lines, exit statuses.
@Suite("shoal --headless and shoal tracker", .serialized)
struct HeadlessCommandTests {
    @Test func seedAndLeechAsSeparateProcesses() async throws {
        let directory = try TemporaryDirectory()
        let shoal = ShoalBinary.url.path
        let tracker = try ExternalProcess(shoal, ["tracker", "--bind", "127.0.0.1", "--http-port", "0", "--interval", "2"],
                                          logName: "tracker")
        #expect(await tracker.waitForOutput("tracker: http://", timeout: .seconds(60)))
        let url = try #require(tracker.output.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        let content = try directory.write("seed/payload.bin", bytes: 2_000_003, seed: 99)
        let torrent = directory.url.appendingPathComponent("payload.torrent")
        #expect(try ShoalBinary.run(["create", content.path, "-t", url, "-o", torrent.path]).status == 0)

        let seedPort = ExternalProcess.freePort()
        let seeder = try ExternalProcess(shoal, ["--headless", "--bind", "127.0.0.1", "--port", String(seedPort),
                                                 "--download-dir", directory.url.appendingPathComponent("seed").path,
                                                 "--state-dir", directory.url.appendingPathComponent("state-seed").path,
                                                 torrent.path], logName: "seed")
        #expect(await seeder.waitForOutput("completed: payload.bin", timeout: .seconds(60)), "\(seeder.output)")

        let leechDir = directory.url.appendingPathComponent("leech")
        let leecher = try ExternalProcess(shoal, ["--headless", "--bind", "127.0.0.1", "--port", String(ExternalProcess.freePort()),
                                                  "--download-dir", leechDir.path,
                                                  "--state-dir", directory.url.appendingPathComponent("state-leech").path,
                                                  "--exit-when-done", torrent.path], logName: "leech")
        let status = await leecher.wait(timeout: .seconds(60))
        #expect(status == 0, "\(leecher.output)")
        #expect(FileManager.default.contentsEqual(atPath: content.path, andPath: leechDir.appendingPathComponent("payload.bin").path))
        let lines = leecher.output.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("payload.bin  ") && $0.contains("%  down ") && $0.contains(" peers ") && $0.contains(" eta ") })
        #expect(lines.contains { $0.hasPrefix("completed: payload.bin") })

        // SIGTERM: the seeder says goodbye to the tracker and exits 0.
        seeder.process.terminate()
        #expect(await seeder.wait(timeout: .seconds(10)) == 0)
        tracker.process.interrupt()
        #expect(await tracker.wait(timeout: .seconds(10)) == 0)
    }

    @Test func badTorrentFailsWithOneLine() throws {
        let directory = try TemporaryDirectory()
        let bad = directory.url.appendingPathComponent("bad.torrent")
        try Data("d4:infoi3ee".utf8).write(to: bad)
        let result = try ShoalBinary.run(["--headless", "--bind", "127.0.0.1", "--port", "0", "--download-dir", directory.url.path,
                                          "--state-dir", directory.url.path, bad.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("'info' must be a dictionary"), "\(result.stderr)")
    }
}
