import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// uTP (BEP 29) against libtorrent with its TCP turned off both ways, so every byte crosses
/// uTP: Shoal downloads from a libtorrent seed and seeds to a libtorrent leecher, single- and
/// multi-file, bytes checked; and both ways through a relay that delays every datagram 50 ms,
/// loses 1 % and reorders 1 % (Benchmarks/impair_relay.py).
@Suite("uTP with libtorrent", .serialized)
struct UTPInteropTests {
    @Test("Shoal downloads from libtorrent over uTP", .enabled(if: ExternalProcess.available("/usr/bin/python3")),
          arguments: RealClientTests.Layout.allCases)
    func shoalDownloadsOverUTP(_ layout: RealClientTests.Layout) async throws {
        let (harness, seedDir, metainfo, files, file) = try await RealClientTests.prepare(layout, seedFolder: "lt-seed")
        let port = ExternalProcess.freePort()
        let seeder = try ExternalProcess(RealClientTests.python, [RealClientTests.ltScript, "seed", file.path, seedDir.path, String(port),
                                                                  "--timeout", "120", "--utp-only"], logName: "lt-seed-utp")
        defer { seeder.stop() }
        #expect(await seeder.waitForOutput("complete", timeout: .seconds(60)), "\(seeder.output)")
        let log = CapturedLog()
        let leecher = try await harness.startSession("leech") {
            $0.utpEnabled = true
            $0.logger = log.logger(level: .debug)
        }
        let hash = try await leecher.add(metainfo)
        await leecher.addPeers(hash, [PeerAddress(host: "127.0.0.1", port: UInt16(port))])
        let done = await harness.waitUntil(timeout: .seconds(90)) { await leecher.snapshot().torrents.first?.isComplete == true }
        let state = await leecher.snapshot().torrents.first
        #expect(done, "\(String(describing: state?.closeReasons)) \(seeder.output.suffix(1_000))")
        #expect(state?.hashFailures == 0)
        RealClientTests.expectSame(files, seedDir, harness.root.appendingPathComponent("leech"))
        let connections = log.all.filter { $0.message == "connected" }
        #expect(!connections.isEmpty && connections.allSatisfy { $0.metadata["utp"] == "true" }, "\(connections.map(\.metadata))")
        await harness.stopAll()
        await seeder.stop()
    }

    @Test("libtorrent downloads from Shoal over uTP", .enabled(if: ExternalProcess.available("/usr/bin/python3")),
          arguments: RealClientTests.Layout.allCases)
    func libtorrentDownloadsOverUTP(_ layout: RealClientTests.Layout) async throws {
        let (harness, seedDir, metainfo, files, file) = try await RealClientTests.prepare(layout, seedFolder: "seed")
        let log = CapturedLog()
        let seeder = try await harness.startSession("seed") {
            $0.downloadDirectory = seedDir.path
            $0.utpEnabled = true
            $0.logger = log.logger(level: .debug)
        }
        try await seeder.add(metainfo)
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await seeder.snapshot().torrents.first?.activity == .seeding })
        let leechDir = harness.root.appendingPathComponent("lt-leech")
        let leecher = try ExternalProcess(RealClientTests.python, [RealClientTests.ltScript, "leech", file.path, leechDir.path,
                                                                   String(ExternalProcess.freePort()), "--peer", "127.0.0.1:\(seeder.listenPort)",
                                                                   "--timeout", "90", "--utp-only"], logName: "lt-leech-utp")
        let status = await leecher.wait(timeout: .seconds(100))
        let closes = await seeder.snapshot().torrents.first?.closeReasons
        #expect(status == 0, "\(leecher.output.suffix(1_500)) \(String(describing: closes))")
        RealClientTests.expectSame(files, seedDir, leechDir)
        let connections = log.all.filter { $0.message == "connected" }
        #expect(!connections.isEmpty && connections.allSatisfy { $0.metadata["utp"] == "true" }, "\(connections.map(\.metadata))")
        await harness.stopAll()
    }

    static let relayScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Benchmarks/impair_relay.py").path

    /// The relay in front of `target`: its port, once it listens.
    static func relay(to target: Int) async throws -> (ExternalProcess, Int) {
        let port = ExternalProcess.freePortForTCPAndUDP()
        let relay = try ExternalProcess(RealClientTests.python, [relayScript, String(port), String(target), "--delay-ms", "50",
                                                                 "--loss", "0.01", "--reorder", "0.01", "--timeout", "150"],
                                        logName: "impair-relay")
        #expect(await relay.waitForOutput("relaying", timeout: .seconds(30)), "\(relay.output)")
        return (relay, port)
    }

    @Test("Shoal and libtorrent over uTP through 50 ms, 1 % loss and 1 % reordering, both ways",
          .enabled(if: ExternalProcess.available("/usr/bin/python3")))
    func throughAnImpairedPath() async throws {
        // No tracker: each side knows the other only as the relay's port.
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("lt-seed")
        let tree: [(path: String, size: Int)] = [("a/one.bin", 100_000), ("a/tiny", 1), ("b.txt", 65_536), ("c/d/e.dat", 333_333)]
        let metainfo = try harness.makeTorrent(name: "tree", files: tree, pieceLength: 32 << 10, in: seedDir, seed: 33, trackers: [])
        let files = tree.map { "tree/" + $0.path }
        let file = harness.root.appendingPathComponent("relay.torrent")
        try Data(Array("d4:info".utf8) + metainfo.rawInfo + [UInt8(ascii: "e")]).write(to: file)
        // libtorrent seeds, Shoal downloads through the relay.
        let ltPort = ExternalProcess.freePortForTCPAndUDP()
        let seeder = try ExternalProcess(RealClientTests.python, [RealClientTests.ltScript, "seed", file.path, seedDir.path, String(ltPort),
                                                                  "--timeout", "150", "--utp-only"], logName: "lt-seed-relay")
        defer { seeder.stop() }
        #expect(await seeder.waitForOutput("complete", timeout: .seconds(60)), "\(seeder.output)")
        let (toSeed, seedRelayPort) = try await Self.relay(to: ltPort)
        defer { toSeed.stop() }
        let leecher = try await harness.startSession("leech") { $0.utpEnabled = true }
        let hash = try await leecher.add(metainfo)
        await leecher.addPeers(hash, [PeerAddress(host: "127.0.0.1", port: UInt16(seedRelayPort))])
        let done = await harness.waitUntil(timeout: .seconds(120)) { await leecher.snapshot().torrents.first?.isComplete == true }
        let state = await leecher.snapshot().torrents.first
        #expect(done, "\(String(describing: state?.closeReasons)) \(toSeed.output.suffix(300))")
        RealClientTests.expectSame(files, seedDir, harness.root.appendingPathComponent("leech"))
        await seeder.stop()
        #expect(await harness.waitUntil(timeout: .seconds(10)) { Self.forwarded(toSeed) > 300 },
                "the bytes crossed the relay: \(toSeed.output.suffix(200))")
        await toSeed.stop()

        // Shoal (now a seed) serves a libtorrent leecher through another relay.
        let (toShoal, shoalRelayPort) = try await Self.relay(to: Int(leecher.listenPort))
        defer { toShoal.stop() }
        let ltDir = harness.root.appendingPathComponent("lt-leech")
        let ltLeecher = try ExternalProcess(RealClientTests.python, [RealClientTests.ltScript, "leech", file.path, ltDir.path,
                                                                     String(ExternalProcess.freePortForTCPAndUDP()), "--peer",
                                                                     "127.0.0.1:\(shoalRelayPort)", "--timeout", "120", "--utp-only"],
                                        logName: "lt-leech-relay")
        let status = await ltLeecher.wait(timeout: .seconds(130))
        #expect(status == 0, "\(ltLeecher.output.suffix(1_000)) \(toShoal.output.suffix(300))")
        RealClientTests.expectSame(files, harness.root.appendingPathComponent("leech"), ltDir)
        #expect(await harness.waitUntil(timeout: .seconds(10)) { Self.forwarded(toShoal) > 300 },
                "the bytes crossed the relay: \(toShoal.output.suffix(200))")
        await toShoal.stop()
        await harness.stopAll()
    }

    /// Datagrams the relay forwarded (it prints its counts every second while they change).
    static func forwarded(_ relay: ExternalProcess) -> Int {
        let last = relay.output.split(separator: "\n").last { $0.hasPrefix("counts ") } ?? ""
        return last.split(separator: " ").first { $0.hasPrefix("forwarded=") }.flatMap { Int($0.dropFirst("forwarded=".count)) } ?? 0
    }
}
