import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// IPv6 only, on ::1: `shoal tracker --bind ::1` introduces a libtorrent peer listening only on
/// [::1] and Shoal listening only on [::1], both announcing over IPv6 (the tracker answers with
/// `peers6`). Each test checks the bytes and how Shoal shows the peer.
@Suite("IPv6 interop with libtorrent", .serialized)
struct IPv6InteropTests {
    typealias Real = RealClientTests

    static func prepare(seedFolder: String) async throws -> (SwarmHarness, TrackerProcess, URL, Metainfo, [String], URL) {
        let harness = try SwarmHarness()
        let tracker = try await TrackerProcess.start(bind: "::1")
        #expect(tracker.httpURL.hasPrefix("http://[::1]:"), "\(tracker.httpURL)")
        let seedDir = harness.root.appendingPathComponent(seedFolder)
        let files: [(String, Int)] = [("a/one.bin", 300_000), ("b.txt", 65_537)]
        let metainfo = try harness.makeTorrent(name: "six", files: files, pieceLength: 32 << 10, in: seedDir, seed: 66,
                                               trackers: [[tracker.httpURL]])
        let file = try Real.write(metainfo, announce: tracker.httpURL, in: harness.root)
        return (harness, tracker, seedDir, metainfo, files.map { "six/\($0.0)" }, file)
    }

    @Test("Shoal downloads from a libtorrent seeder on [::1], found through shoal tracker over IPv6",
          .enabled(if: ExternalProcess.available("/usr/bin/python3")))
    func fromLibtorrent() async throws {
        let (harness, tracker, seedDir, metainfo, files, file) = try await Self.prepare(seedFolder: "lt-seed")
        let port = ExternalProcess.freePort()
        let seeder = try ExternalProcess(Real.python, [Real.ltScript, "seed", file.path, seedDir.path, String(port), "--timeout", "90",
                                                       "--bind", "::1"], logName: "lt-seed6")
        #expect(await seeder.waitForOutput("complete", timeout: .seconds(60)), "\(seeder.output)")
        #expect(await TrackerInteropTests.waitForSeeders(1, metainfo.infoHash, at: tracker.httpURL), "libtorrent announced over IPv6")
        let log = CapturedLog()
        let leecher = try await harness.startSession("shoal") {
            $0.bindAddress = "::1"
            $0.logger = log.logger()
        }
        try await leecher.add(metainfo)
        let done = await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true }
        let trackers = await leecher.snapshot().torrents.first?.trackers ?? []
        #expect(done, "\(trackers) \(seeder.output)")
        Real.expectSame(files, seedDir, harness.root.appendingPathComponent("shoal"))
        #expect(log.all.contains { $0.message == "connected" && $0.metadata["peer"] == "[::1]:\(port)" }, "the seeder, as [::1]:\(port)")
        await seeder.stop()
        await harness.stopAll()
        _ = await tracker.interrupt()
    }

    @Test("A libtorrent leecher on [::1] dials Shoal at [::1], found through shoal tracker over IPv6",
          .enabled(if: ExternalProcess.available("/usr/bin/python3")))
    func toLibtorrent() async throws {
        let (harness, tracker, seedDir, metainfo, files, file) = try await Self.prepare(seedFolder: "shoal")
        let seeder = try await harness.startSession("shoal") { $0.bindAddress = "::1" }
        try await seeder.add(metainfo)
        #expect(await harness.waitUntil(timeout: .seconds(60)) {
            let torrent = await seeder.snapshot().torrents.first
            return torrent?.activity == .seeding && torrent?.trackers.first?.status == "working"
        })
        let leechDir = harness.root.appendingPathComponent("lt-leech")
        let leecher = try ExternalProcess(Real.python, [Real.ltScript, "leech", file.path, leechDir.path, String(ExternalProcess.freePort()),
                                                        "--bind", "::1", "--peer", "[::1]:\(seeder.listenPort)", "--timeout", "60"],
                                          logName: "lt-leech6")
        #expect(await leecher.wait(timeout: .seconds(70)) == 0, "\(leecher.output)")
        Real.expectSame(files, seedDir, leechDir)
        let uploaded = await seeder.snapshot().torrents.first?.uploaded ?? 0
        #expect(uploaded >= metainfo.info.totalLength)
        await harness.stopAll()
        _ = await tracker.interrupt()
    }
}
