import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// Trackers and real clients on 127.0.0.1: libtorrent and aria2 find each other only through
/// `shoal tracker` (HTTP and UDP), and Shoal finds its peers through Debian's opentracker.
@Suite("Real clients and trackers", .serialized)
struct TrackerInteropTests {
    static let aria2 = ExternalProcess.which("aria2c") ?? "/usr/bin/aria2c"

    /// Polls a tracker's scrape until it counts `seeders` seeders for `hash`.
    static func waitForSeeders(_ seeders: Int, _ hash: InfoHash, at url: String, timeout: Duration = .seconds(60)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let counts = await TrackerScrape.counts(for: hash, at: url, timeout: .seconds(5), retry: .init(firstTimeout: .seconds(1), attempts: 2))
            if let counts, counts.seeders >= seeders { return true }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return false
    }

    /// Content and a .torrent whose only tracker is `announce`.
    static func content(_ harness: SwarmHarness, announce: String, seedFolder: String) throws -> (Metainfo, URL, URL) {
        let seedDir = harness.root.appendingPathComponent(seedFolder)
        let metainfo = try harness.makeTorrent(name: "album", files: [("01.flac", 300_001), ("02.flac", 190_000), ("cover.jpg", 7)],
                                               pieceLength: 32 << 10, in: seedDir, seed: 61, trackers: [[announce]])
        return (metainfo, seedDir, try RealClientTests.write(metainfo, announce: announce, in: harness.root))
    }

    static let files = ["album/01.flac", "album/02.flac", "album/cover.jpg"]

    @Test("libtorrent seeds, aria2 leeches, through shoal tracker over HTTP",
          .enabled(if: ExternalProcess.available("/usr/bin/python3", "aria2c")))
    func libtorrentToAria2OverHTTP() async throws {
        try await Self.libtorrentSeeds(over: \.httpURL) { file, leechDir in
            try ExternalProcess(Self.aria2, RealClientTests.aria2Arguments(port: ExternalProcess.freePort())
                                  + ["--seed-time=0", "-d", leechDir.path, file.path], logName: "aria2-leech")
        }
    }

    /// aria2 given only a magnet announces `left=0` while it fetches the metadata: `shoal
    /// tracker` still hands it the seeder (it once gave seeds no seeds, and aria2 never found one).
    @Test("libtorrent seeds, aria2 fetches a magnet, through shoal tracker", .enabled(if: ExternalProcess.available("/usr/bin/python3", "aria2c")))
    func aria2MagnetThroughShoalTracker() async throws {
        try await Self.libtorrentSeeds(over: \.httpURL) { file, leechDir in
            let metainfo = try Metainfo(bytes: Array(Data(contentsOf: file)))
            let magnet = MagnetLink(infoHash: metainfo.infoHash, displayName: "album", trackers: metainfo.trackerTiers.first ?? []).uri
            return try ExternalProcess(Self.aria2, RealClientTests.aria2Arguments(port: ExternalProcess.freePort())
                                         + ["--seed-time=0", "--bt-save-metadata=false", "-d", leechDir.path, magnet], logName: "aria2-magnet")
        }
    }

    /// Debian's aria2 is built without UDP trackers ("udp is not supported yet"), so over UDP
    /// it is libtorrent on both sides.
    @Test("libtorrent seeds and leeches through shoal tracker over UDP", .enabled(if: ExternalProcess.available("/usr/bin/python3")))
    func libtorrentPairOverUDP() async throws {
        try await Self.libtorrentSeeds(over: \.udpURL) { file, leechDir in
            try ExternalProcess(RealClientTests.python, [RealClientTests.ltScript, "leech", file.path, leechDir.path,
                                                         String(ExternalProcess.freePort()), "--timeout", "80"], logName: "lt-leech")
        }
    }

    /// A libtorrent seeder announces to `shoal tracker` (at the URL `announce` picks); once the
    /// tracker counts it, the leecher `leech` starts finds it only through the tracker.
    static func libtorrentSeeds(over announce: KeyPath<TrackerProcess, String>,
                                leech: (_ torrentFile: URL, _ directory: URL) throws -> ExternalProcess) async throws {
        let tracker = try await TrackerProcess.start(interval: 5)
        let harness = try SwarmHarness()
        let url = tracker[keyPath: announce]
        let (metainfo, seedDir, file) = try Self.content(harness, announce: url, seedFolder: "lt-seed")
        let seeder = try ExternalProcess(RealClientTests.python, [RealClientTests.ltScript, "seed", file.path, seedDir.path,
                                                                  String(ExternalProcess.freePort()), "--timeout", "120"],
                                         logName: "lt-seed")
        #expect(await Self.waitForSeeders(1, metainfo.infoHash, at: url), "\(seeder.output)")
        let leechDir = harness.root.appendingPathComponent("leech")
        let leecher = try leech(file, leechDir)
        #expect(await leecher.wait(timeout: .seconds(90)) == 0, "\(leecher.output)")
        RealClientTests.expectSame(Self.files, seedDir, leechDir)
        await seeder.stop()
        #expect(await tracker.interrupt() == 0)
    }

    /// opentracker refuses torrents it does not know unless they are on its whitelist, and will
    /// not run as root: it gets a whitelist and drops to `nobody` in a directory it can read.
    @Test("Shoal finds its peers through opentracker (HTTP and UDP)", .enabled(if: ExternalProcess.available("opentracker")))
    func shoalThroughOpentracker() async throws {
        let harness = try SwarmHarness()
        let (metainfo, _, _) = try Self.content(harness, announce: "http://127.0.0.1:1/announce", seedFolder: "seed")
        let trackerDir = harness.root.appendingPathComponent("opentracker")
        try FileManager.default.createDirectory(at: trackerDir, withIntermediateDirectories: true)
        try (metainfo.infoHash.hex + "\n").write(to: trackerDir.appendingPathComponent("whitelist"), atomically: true, encoding: .utf8)
        for path in [harness.root.path, trackerDir.path] { chmod(path, 0o755) }
        let (opentracker, port) = try await Self.startOpentracker(in: trackerDir, whitelisted: metainfo.infoHash)
        defer { opentracker.stop() }
        let http = "http://127.0.0.1:\(port)/announce", udp = "udp://127.0.0.1:\(port)/announce"
        let overHTTP = try Metainfo(bytes: Array(Data(contentsOf: RealClientTests.write(metainfo, announce: http, in: harness.root))))

        // The seeder announces over HTTP, the leecher over UDP: the same swarm on both.
        let seeder = try await harness.startSession("seed")
        try await seeder.add(overHTTP)
        #expect(await Self.waitForSeeders(1, metainfo.infoHash, at: http), "\(opentracker.output)")
        let overUDP = try Metainfo(bytes: Array(Data(contentsOf: RealClientTests.write(metainfo, announce: udp, in: harness.root))))
        let leecher = try await harness.startSession("leech")
        try await leecher.add(overUDP)
        let done = await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true }
        #expect(done, "\(opentracker.output)")
        let trackers = await leecher.snapshot().torrents.first?.trackers ?? []
        #expect(trackers.first?.url == udp && trackers.first?.error == nil && (trackers.first?.peersReturned ?? 0) >= 1, "\(trackers)")
        RealClientTests.expectSame(Self.files, harness.root.appendingPathComponent("seed"), harness.root.appendingPathComponent("leech"))
        await harness.stopAll()
        // Waited for, with SIGKILL if SIGTERM is not enough: the `defer`'s stop cannot wait, and
        // when this is the last test the process may exit before its SIGKILL, leaving opentracker.
        await opentracker.stop()
    }

    /// opentracker on a port free for TCP and UDP, answering on it. Another test's socket can
    /// still take the port between our check and opentracker's bind ("Address already in
    /// use", and it exits): then it is started again on another port.
    static func startOpentracker(in directory: URL, whitelisted hash: InfoHash) async throws -> (ExternalProcess, Int) {
        var lastOutput = ""
        for _ in 0..<5 {
            let port = ExternalProcess.freePortForTCPAndUDP()
            let process = try ExternalProcess(ExternalProcess.which("opentracker") ?? "/usr/bin/opentracker",
                                              ["-i", "127.0.0.1", "-p", String(port), "-P", String(port), "-d", directory.path,
                                               "-u", "nobody", "-w", "whitelist"], logName: "opentracker")
            let deadline = ContinuousClock.now + .seconds(10)
            while process.process.isRunning && ContinuousClock.now < deadline {
                // Any HTTP answer says TCP is bound; a UDP scrape (always answered with counts) says UDP is.
                if (try? await HTTPClient.fetch("http://127.0.0.1:\(port)/stats", timeout: .seconds(1))) != nil,
                   await TrackerScrape.counts(for: hash, at: "udp://127.0.0.1:\(port)/announce", timeout: .seconds(1),
                                              retry: .init(firstTimeout: .seconds(1), attempts: 1)) != nil {
                    return (process, port)
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
            lastOutput = process.output
            await process.stop()
        }
        Issue.record("opentracker did not start: \(lastOutput)")
        throw CancellationError()
    }
}
