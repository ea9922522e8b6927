import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// Shoal against real clients that insist on encryption, all on 127.0.0.1: libtorrent with MSE
/// forced (RC4 only, both ways), Transmission with encryption required, rTorrent with
/// `require,require_RC4`, aria2 with `--bt-require-crypto` and RC4 as the least level. Shoal
/// runs with `--encryption require` too, so every byte went through RC4 or nothing moved.
/// Shoal dials the seeders; the leechers find the Shoal seeder themselves (libtorrent by
/// address, the others through the test's tracker). Each test checks the bytes.
@Suite("Encrypted interop with real clients", .serialized)
struct EncryptedInteropTests {
    typealias Real = RealClientTests

    static func encryptedSession(_ harness: SwarmHarness, _ name: String) async throws -> Session {
        try await harness.startSession(name) { $0.encryption = .require }
    }

    /// Shoal downloads from a seeder at `port` and shows it as encrypted.
    static func shoalDownloads(_ harness: SwarmHarness, _ metainfo: Metainfo, files: [String], seedDir: URL, port: Int,
                               context: @autoclosure () -> String) async throws {
        let leecher = try await encryptedSession(harness, "shoal")
        let hash = try await leecher.add(metainfo)
        await leecher.addPeers(hash, [PeerAddress(host: "127.0.0.1", port: UInt16(port))])
        let done = await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true }
        let snapshot = await leecher.snapshot().torrents.first
        #expect(done, "\(snapshot?.closeReasons.summary ?? "") \(context())")
        #expect(snapshot?.hashFailures == 0)
        Real.expectSame(files, seedDir, harness.root.appendingPathComponent("shoal"))
    }

    /// A Shoal seeder that requires encryption, announced to the test's tracker.
    static func shoalSeeds(_ harness: SwarmHarness, _ metainfo: Metainfo) async throws -> Session {
        let seeder = try await encryptedSession(harness, "shoal")
        try await seeder.add(metainfo)
        #expect(await harness.waitUntil(timeout: .seconds(60)) {
            let torrent = await seeder.snapshot().torrents.first
            return torrent?.activity == .seeding && torrent?.trackers.first?.status == "working"
        })
        return seeder
    }

    // MARK: libtorrent

    @Test("Shoal downloads from a libtorrent seeder that forces encryption", .enabled(if: ExternalProcess.available("/usr/bin/python3")))
    func fromLibtorrent() async throws {
        let (harness, seedDir, metainfo, files, file) = try await Real.prepare(.multi, seedFolder: "lt-seed")
        let port = ExternalProcess.freePort()
        let seeder = try ExternalProcess(Real.python, [Real.ltScript, "seed", file.path, seedDir.path, String(port), "--timeout", "90",
                                                       "--encryption", "forced"], logName: "lt-seed")
        #expect(await seeder.waitForOutput("complete", timeout: .seconds(60)), "\(seeder.output)")
        try await Self.shoalDownloads(harness, metainfo, files: files, seedDir: seedDir, port: port, context: seeder.output)
        await seeder.stop()
        await harness.stopAll()
    }

    @Test("A libtorrent leecher that forces encryption downloads from Shoal", .enabled(if: ExternalProcess.available("/usr/bin/python3")))
    func toLibtorrent() async throws {
        let (harness, seedDir, metainfo, files, file) = try await Real.prepare(.multi, seedFolder: "shoal")
        let seeder = try await Self.shoalSeeds(harness, metainfo)
        let leechDir = harness.root.appendingPathComponent("lt-leech")
        let leecher = try ExternalProcess(Real.python, [Real.ltScript, "leech", file.path, leechDir.path, String(ExternalProcess.freePort()),
                                                        "--peer", "127.0.0.1:\(seeder.listenPort)", "--timeout", "60", "--encryption", "forced"],
                                          logName: "lt-leech")
        #expect(await leecher.wait(timeout: .seconds(70)) == 0, "\(leecher.output)")
        Real.expectSame(files, seedDir, leechDir)
        await harness.stopAll()
    }

    // MARK: Transmission

    @Test("Shoal downloads from Transmission with encryption required", .enabled(if: ExternalProcess.available("transmission-daemon")))
    func fromTransmission() async throws {
        let (harness, seedDir, metainfo, files, file) = try await Real.prepare(.single, seedFolder: "tr-seed")
        let daemon = try TransmissionDaemon.start(in: harness.root, name: "tr-seed", downloadDir: seedDir, encryption: 2)
        #expect(await daemon.add(file, harness: harness), "\(daemon.process.output)")
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await daemon.isComplete() }, "Transmission verified its copy")
        try await Self.shoalDownloads(harness, metainfo, files: files, seedDir: seedDir, port: daemon.peerPort,
                                      context: daemon.process.output)
        await daemon.process.stop()
        await harness.stopAll()
    }

    @Test("Transmission with encryption required downloads from Shoal", .enabled(if: ExternalProcess.available("transmission-daemon")))
    func toTransmission() async throws {
        let (harness, seedDir, metainfo, files, file) = try await Real.prepare(.single, seedFolder: "shoal")
        _ = try await Self.shoalSeeds(harness, metainfo)
        let leechDir = harness.root.appendingPathComponent("tr-leech")
        let daemon = try TransmissionDaemon.start(in: harness.root, name: "tr-leech", downloadDir: leechDir, encryption: 2)
        #expect(await daemon.add(file, harness: harness), "\(daemon.process.output)")
        let done = await harness.waitUntil(timeout: .seconds(60)) { await daemon.isComplete() }
        #expect(done, "\(daemon.process.output)")
        Real.expectSame(files, seedDir, leechDir)
        await daemon.process.stop()
        await harness.stopAll()
    }

    // MARK: rTorrent

    static let rtorrentEncryption = "allow_incoming,try_outgoing,require,require_RC4"

    @Test("Shoal downloads from rTorrent with encryption required", .enabled(if: ExternalProcess.available("rtorrent")))
    func fromRTorrent() async throws {
        let (harness, seedDir, metainfo, files, file) = try await Real.prepare(.single, seedFolder: "rt-seed")
        let daemon = try RTorrentDaemon.start(in: harness.root, name: "rt-seed", directory: seedDir, torrent: file,
                                              encryption: Self.rtorrentEncryption)
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await daemon.isListening() }, "\(daemon.process.output)")
        try await Self.shoalDownloads(harness, metainfo, files: files, seedDir: seedDir, port: daemon.port, context: daemon.log)
        await daemon.process.stop()
        await harness.stopAll()
    }

    @Test("rTorrent with encryption required downloads from Shoal", .enabled(if: ExternalProcess.available("rtorrent")))
    func toRTorrent() async throws {
        let (harness, seedDir, metainfo, files, file) = try await Real.prepare(.single, seedFolder: "shoal")
        _ = try await Self.shoalSeeds(harness, metainfo)
        let leechDir = harness.root.appendingPathComponent("rt-leech")
        let daemon = try RTorrentDaemon.start(in: harness.root, name: "rt-leech", directory: leechDir, torrent: file,
                                              encryption: Self.rtorrentEncryption)
        #expect(await harness.waitUntil(timeout: .seconds(60)) { daemon.finished }, "\(daemon.log)")
        Real.expectSame(files, seedDir, leechDir)
        await daemon.process.stop()
        await harness.stopAll()
    }

    // MARK: aria2

    static let aria2Encryption = ["--bt-require-crypto=true", "--bt-min-crypto-level=arc4"]

    @Test("Shoal downloads from aria2 with encryption required", .enabled(if: ExternalProcess.available("aria2c")))
    func fromAria2() async throws {
        let (harness, seedDir, metainfo, files, file) = try await Real.prepare(.single, seedFolder: "aria2-seed")
        let port = ExternalProcess.freePort()
        let seeder = try ExternalProcess(ExternalProcess.which("aria2c") ?? "/usr/bin/aria2c",
                                         Real.aria2Arguments(port: port) + Self.aria2Encryption
                                             + ["--seed-ratio=0.0", "--check-integrity=true", "-d", seedDir.path, file.path],
                                         logName: "aria2-seed")
        try await Self.shoalDownloads(harness, metainfo, files: files, seedDir: seedDir, port: port, context: seeder.output)
        await seeder.stop()
        await harness.stopAll()
    }

    @Test("aria2 with encryption required downloads from Shoal", .enabled(if: ExternalProcess.available("aria2c")))
    func toAria2() async throws {
        let (harness, seedDir, metainfo, files, file) = try await Real.prepare(.single, seedFolder: "shoal")
        _ = try await Self.shoalSeeds(harness, metainfo)
        let leechDir = harness.root.appendingPathComponent("aria2-leech")
        let leecher = try ExternalProcess(ExternalProcess.which("aria2c") ?? "/usr/bin/aria2c",
                                          Real.aria2Arguments(port: ExternalProcess.freePort()) + Self.aria2Encryption
                                              + ["--seed-time=0", "-d", leechDir.path, file.path],
                                          logName: "aria2-leech")
        #expect(await leecher.wait(timeout: .seconds(70)) == 0, "\(leecher.output)")
        Real.expectSame(files, seedDir, leechDir)
        await harness.stopAll()
    }
}
