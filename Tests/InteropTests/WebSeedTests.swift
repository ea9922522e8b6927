import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// Web seeds (BEP 19) against Python's http.server on 127.0.0.1 (Scripts/web_seed_server.py:
/// the standard handler plus byte ranges, and faults on demand).
@Suite("Web seeds", .serialized)
struct WebSeedTests {
    /// The server, serving `root`, with the script's `options`.
    final class Server: Sendable {
        let process: ExternalProcess
        let port: Int

        init(root: URL, options: [String] = []) async throws {
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/web_seed_server.py")
            process = try ExternalProcess(RealClientTests.python, [script.path, "--root", root.path] + options, logName: "web-seed")
            // Generous: beside the heaviest suites on two cores, Python can take many seconds to start.
            let deadline = ContinuousClock.now + .seconds(90)
            var port: Int?
            while port == nil && ContinuousClock.now < deadline && process.process.isRunning {
                port = process.output.split(separator: "\n").first { $0.hasPrefix("port ") }.flatMap { Int($0.dropFirst(5)) }
                if port == nil { try? await Task.sleep(for: .milliseconds(50)) }
            }
            guard let port else { throw ServerFailed(output: process.output) }
            self.port = port
        }

        var url: String { "http://127.0.0.1:\(port)/" }
        /// Requests it answered (one log line each).
        var requests: Int { process.output.split(separator: "\n").filter { $0.contains("\"GET ") }.count }
    }

    struct ServerFailed: Error { let output: String }

    /// `metainfo` with `webSeeds` as its `url-list` and `trackers` as its only tier.
    static func withWebSeeds(_ metainfo: Metainfo, _ webSeeds: [String], trackers: [String] = []) throws -> Metainfo {
        var root: [String: BencodeValue] = ["url-list": .list(webSeeds.map { .string($0) })]
        if let first = trackers.first { root["announce"] = .string(first) }
        var bytes = BencodeEncoder.encode(.dict(root))
        bytes.removeLast()
        return try Metainfo(bytes: bytes + Array("4:info".utf8) + metainfo.rawInfo + [UInt8(ascii: "e")])
    }

    static func webSeed(_ session: Session) async -> WebSeedSnapshot? {
        await session.snapshot().torrents.first?.details.webSeeds.first
    }

    // Names with a space, an accent and a reserved character: the URL must carry the torrent's
    // own bytes, percent-encoded.
    static let files: [(path: String, size: Int)] = [("Disc 1/01 Ouvertüre & Prélude.flac", 700_001), ("Disc 1/02.flac", 0),
                                                     ("Disc 2/cover #1.jpg", 90_000), ("notes.txt", 333)]

    @Test("A multi-file torrent whose only source is a web server completes")
    func multiFileFromTheServerAlone() async throws {
        let harness = try SwarmHarness()
        let content = harness.root.appendingPathComponent("www")
        let made = try harness.makeTorrent(name: "Album (2024)", files: Self.files, pieceLength: 32 << 10, in: content, seed: 71, trackers: [])
        let server = try await Server(root: content)
        defer { server.process.stop() }
        // Without the trailing slash: the torrent's folder goes below it all the same.
        let metainfo = try Self.withWebSeeds(made, [String(server.url.dropLast())])
        let leecher = try await harness.startSession("leech")
        try await leecher.add(metainfo)
        let done = await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true }
        let state = await Self.webSeed(leecher)
        #expect(done, "\(server.process.output.suffix(2_000)) \(String(describing: state))")
        RealClientTests.expectSame(Self.files.map { "Album (2024)/" + $0.path }, content, harness.root.appendingPathComponent("leech"))
        let seed = await Self.webSeed(leecher)
        #expect(seed?.downloaded ?? 0 >= made.info.totalLength, "\(String(describing: seed))")
        await harness.stopAll()
    }

    @Test("A single-file torrent from its file's URL, and from a directory URL")
    func singleFile() async throws {
        for directoryURL in [false, true] {
            let harness = try SwarmHarness()
            let content = harness.root.appendingPathComponent("www")
            let made = try harness.makeTorrent(name: "big file.iso", files: nil, singleSize: 1_500_000, pieceLength: 64 << 10,
                                               in: content, seed: 72, trackers: [])
            let server = try await Server(root: content)
            defer { server.process.stop() }
            let metainfo = try Self.withWebSeeds(made, [directoryURL ? server.url : server.url + "big%20file.iso"])
            let leecher = try await harness.startSession("leech")
            try await leecher.add(metainfo)
            #expect(await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true })
            RealClientTests.expectSame(["big file.iso"], content, harness.root.appendingPathComponent("leech"))
            await harness.stopAll()
        }
    }

    /// Python's own handler, which answers a range request with the whole file: small files
    /// are cut to size.
    @Test("A server without byte ranges serves small files whole")
    func serverWithoutRanges() async throws {
        let harness = try SwarmHarness()
        let content = harness.root.appendingPathComponent("www")
        let made = try harness.makeTorrent(name: "Album (2024)", files: Self.files, pieceLength: 32 << 10, in: content, seed: 73, trackers: [])
        let server = try await Server(root: content, options: ["--no-ranges"])
        defer { server.process.stop() }
        let leecher = try await harness.startSession("leech")
        try await leecher.add(try Self.withWebSeeds(made, [server.url]))
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true })
        RealClientTests.expectSame(Self.files.map { "Album (2024)/" + $0.path }, content, harness.root.appendingPathComponent("leech"))
        await harness.stopAll()
    }

    /// A peer capped at 32 KiB/s and a web seed: the server carries most of it.
    @Test("Beside one slow peer, the web seed carries the rest")
    func slowPeerAndWebSeed() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let content = harness.root.appendingPathComponent("seed")
        let made = try harness.makeTorrent(name: "slow.bin", files: nil, singleSize: 4 << 20, pieceLength: 64 << 10, in: content, seed: 74)
        let server = try await Server(root: content)
        defer { server.process.stop() }
        let metainfo = try Self.withWebSeeds(made, [server.url], trackers: [harness.tracker.announceURL])
        let seeder = try await harness.startSession("seed") {
            $0.downloadDirectory = content.path
            $0.uploadLimit = 32 << 10
        }
        try await seeder.add(metainfo)
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await seeder.snapshot().torrents.first?.activity == .seeding })
        let leecher = try await harness.startSession("leech")
        try await leecher.add(metainfo)
        #expect(await harness.waitUntil(timeout: .seconds(90)) { await leecher.snapshot().torrents.first?.isComplete == true })
        RealClientTests.expectSame(["slow.bin"], content, harness.root.appendingPathComponent("leech"))
        let fromServer = await Self.webSeed(leecher)?.downloaded ?? 0
        #expect(fromServer >= made.info.totalLength * 8 / 10, "the web seed sent \(fromServer) of \(made.info.totalLength)")
        await harness.stopAll()
    }

    /// Every piece the server sends is wrong: it is dropped for it, and a peer gives the rest.
    @Test("A server that sends wrong bytes is dropped and the pieces come from a peer")
    func wrongBytesDropTheServer() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let content = harness.root.appendingPathComponent("seed")
        let pieceLength = 32 << 10
        let made = try harness.makeTorrent(name: "bad.bin", files: nil, singleSize: 2 << 20, pieceLength: pieceLength, in: content, seed: 75)
        let corrupt = stride(from: 0, to: Int(made.info.totalLength), by: pieceLength).flatMap { ["--corrupt", "bad.bin:\($0 + 100)"] }
        let server = try await Server(root: content, options: corrupt)
        defer { server.process.stop() }
        let metainfo = try Self.withWebSeeds(made, [server.url], trackers: [harness.tracker.announceURL])
        // The leecher meets the server first; the seeder comes once the server is dropped.
        let leecher = try await harness.startSession("leech")
        try await leecher.add(metainfo)
        let dropped = await harness.waitUntil(timeout: .seconds(60)) {
            await Self.webSeed(leecher)?.status(now: .now).hasPrefix("dropped: sent data that failed the hash check") == true
        }
        let state = await Self.webSeed(leecher)
        #expect(dropped, "\(String(describing: state))")
        let requests = server.requests
        let seeder = try await harness.startSession("seed") { $0.downloadDirectory = content.path }
        try await seeder.add(metainfo)
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true })
        RealClientTests.expectSame(["bad.bin"], content, harness.root.appendingPathComponent("leech"))
        #expect(server.requests <= requests + WebSeedSchedule.connectionsPerServer, "a dropped server is not asked again")
        await harness.stopAll()
    }

    /// Nothing listens at the URL: the torrent says when it will try again, and a peer serves it.
    @Test("A dead server waits its turn while a peer serves the torrent")
    func deadServer() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let content = harness.root.appendingPathComponent("seed")
        let made = try harness.makeTorrent(name: "dead.bin", files: nil, singleSize: 600_000, pieceLength: 32 << 10, in: content, seed: 76)
        let metainfo = try Self.withWebSeeds(made, ["http://127.0.0.1:\(ExternalProcess.freePort())/"], trackers: [harness.tracker.announceURL])
        let leecher = try await harness.startSession("leech")
        try await leecher.add(metainfo)
        let waiting = await harness.waitUntil(timeout: .seconds(30)) { await Self.webSeed(leecher)?.status(now: .now).hasPrefix("retry in") == true }
        let state = await Self.webSeed(leecher)
        #expect(waiting, "\(String(describing: state))")
        let seeder = try await harness.startSession("seed") { $0.downloadDirectory = content.path }
        try await seeder.add(metainfo)
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true })
        RealClientTests.expectSame(["dead.bin"], content, harness.root.appendingPathComponent("leech"))
        await harness.stopAll()
    }

    /// An `https://` web seed, its certificate signed by a CA the process is told to trust
    /// (`SSL_CERT_FILE`): the shoal binary, with nothing but the server, completes and exits.
    @Test("An https web seed is fetched over TLS", .enabled(if: ExternalProcess.available("openssl")))
    func httpsWebSeed() async throws {
        let harness = try SwarmHarness()
        let (cert, key) = try await TLSInteropTests.makeCertificate(in: harness.root)
        let content = harness.root.appendingPathComponent("www")
        let made = try harness.makeTorrent(name: "secure.bin", files: nil, singleSize: 900_001, pieceLength: 32 << 10, in: content, seed: 77,
                                           trackers: [])
        let server = try await Server(root: content, options: ["--tls", cert, key])
        let metainfo = try Self.withWebSeeds(made, ["https://localhost:\(server.port)/"])
        let torrent = harness.root.appendingPathComponent("secure.torrent")
        try Data(metainfo.fileBytes).write(to: torrent)
        let config = harness.root.appendingPathComponent("empty.toml")
        try Data().write(to: config)
        let download = harness.root.appendingPathComponent("leech")
        let shoal = try ExternalProcess(ExternalProcess.shoalExecutable.path, [
            "--headless", "--exit-when-done", "--port", "0", "--bind", "127.0.0.1", "--download-dir", download.path,
            "--state-dir", harness.root.appendingPathComponent("state").path, "--config", config.path, torrent.path,
        ], environment: ["SSL_CERT_FILE": cert], logName: "https-web-seed")
        let status = await shoal.wait(timeout: .seconds(90))
        #expect(status == 0, "\(shoal.output.suffix(1_500))")
        RealClientTests.expectSame(["secure.bin"], content, download)
        #expect(server.requests > 0)
        await server.process.stop()
    }
}
