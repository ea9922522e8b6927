import Foundation
import ShoalCore
import ShoalTestSupport
import Testing

/// `https://` for real: a Shoal daemon adds a torrent from an HTTPS URL (through
/// transmission-remote) and finds its seeder through a tracker reached over TLS, trusting a
/// private CA named in `SSL_CERT_FILE`; without that trust it refuses, saying why.
@Suite("HTTPS torrent URLs and trackers", .serialized)
struct TLSInteropTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/https_server.py").path

    /// A certificate for `localhost` and 127.0.0.1, made for this test.
    static func makeCertificate(in root: URL) async throws -> (cert: String, key: String) {
        let cert = root.appendingPathComponent("cert.pem").path
        let key = root.appendingPathComponent("key.pem").path
        let openssl = try ExternalProcess("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ], logName: "openssl")
        #expect(await openssl.wait(timeout: .seconds(60)) == 0, "\(openssl.output)")
        return (cert, key)
    }

    @Test(.enabled(if: ExternalProcess.available("transmission-remote", "openssl")))
    func torrentURLAndTrackerOverHTTPS() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker(interval: 2)
        let (cert, key) = try await Self.makeCertificate(in: harness.root)
        let served = harness.root.appendingPathComponent("served")
        try FileManager.default.createDirectory(at: served, withIntermediateDirectories: true)
        let upstream = harness.tracker.announceURL.replacingOccurrences(of: "/announce", with: "")
        let server = try ExternalProcess("/usr/bin/python3", [Self.script, cert, key, served.path, upstream], logName: "https-server")
        defer { server.stop() }
        #expect(await server.waitForOutput("listening", timeout: .seconds(30)), "\(server.output)")
        let port = try #require(server.output.split(separator: " ").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })

        // The seeder announces to the tracker directly; the daemon's copy names it only by
        // https:// (the info-hash is the same: trackers are outside the info dictionary).
        let seedDir = harness.root.appendingPathComponent("seed")
        let plain = try harness.makeTorrent(name: "secure.bin", files: nil, singleSize: 700_000, pieceLength: 32 << 10, in: seedDir, seed: 41)
        let overTLS = try harness.makeTorrent(name: "secure.bin", files: nil, singleSize: 700_000, pieceLength: 32 << 10, in: seedDir, seed: 41,
                                              trackers: [["https://localhost:\(port)/announce"]])
        #expect(plain.infoHash == overTLS.infoHash)
        try Data(overTLS.fileBytes).write(to: served.appendingPathComponent("secure.torrent"))
        let seeder = try await harness.startSession("seed") { $0.downloadDirectory = seedDir.path }
        try await seeder.add(plain)
        #expect(await harness.waitUntil(timeout: .seconds(60)) {
            await seeder.snapshot().torrents.first.map { $0.activity == .seeding && $0.trackers.first?.status == "working" } ?? false
        })
        let url = "https://localhost:\(port)/secure.torrent"

        // Without the CA: refused, and the answer says why.
        let untrusting = try await ShoalDaemon.start(in: harness.root, name: "untrusting")
        let refused = await untrusting.remote(["-a", url])
        await untrusting.process.stop()
        #expect(refused.output.contains("certificate is not trusted"), "\(refused.output)")

        let daemon = try await ShoalDaemon.start(in: harness.root, name: "trusting", environment: ["SSL_CERT_FILE": cert])
        defer { daemon.process.stop() }
        let added = await daemon.remote(["-a", url])
        #expect(added.status == 0 && added.output.contains("success"), "\(added.output)")
        let done = await harness.waitUntil(timeout: .seconds(60)) { await daemon.listRow("secure.bin")?.contains("100%") == true }
        let list = await daemon.remote(["-l"]).output
        #expect(done, "\(list)\n\(daemon.process.output)")
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("secure.bin"), daemon.downloadDir.appendingPathComponent("secure.bin")))
        let trackers = await daemon.remote(["-t", "1", "-it"]).output
        // transmission-remote names a tracker by host and port; its answer came over TLS.
        #expect(trackers.contains("Tracker 0: localhost:\(port)") && trackers.contains("Got a list of 1 peers"), "\(trackers)")
        await daemon.process.stop()
        await server.stop()
        await harness.stopAll()
    }
}
