import Foundation
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Testing

/// What a remote sets with `session-set` is kept for the next start, as Transmission keeps its
/// settings.json: the download directory (unless the next run names one) and
/// `start-added-torrents`, which adds torrents paused when false.
@Suite("Remote settings across restarts")
struct RemoteSettingsPersistenceTests {
    @Test func downloadDirectoryAndStartAddedSurviveARestart() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let state = harness.root.appendingPathComponent("state").path
        let chosen = harness.root.appendingPathComponent("chosen").path
        let first = try await harness.startSession("daemon") { $0.stateDirectory = state }
        let rpc = TransmissionRPC(session: first, sessionID: "id", fetch: { _ in [] }, close: {})
        _ = try await rpc.perform("session-set", ["download-dir": .string(chosen), "start-added-torrents": false])
        let torrent = try harness.makeTorrent(name: "one.bin", files: nil, singleSize: 40_000, pieceLength: 16 << 10,
                                              in: harness.root.appendingPathComponent("source"), seed: 4)
        let added = try await rpc.perform("torrent-add", ["metainfo": .string(Data(torrent.fileBytes).base64EncodedString())])
        #expect(added["torrent-added"]?["hashString"]?.string == torrent.infoHash.hex)
        // torrent-get writes its rows as JSON text already: read back as a client would.
        let got = try JSONParser.parse(JSONWriter.bytes(.object(try await rpc.perform("torrent-get", ["fields": ["status", "downloadDir"]]))))
        let row = got["torrents"]?.array?.first
        #expect(row?["status"]?.int == 0 && row?["downloadDir"]?.string == chosen, "added paused, into the chosen directory: \(String(describing: row))")
        await #expect(throws: (any Error).self) { _ = try await rpc.perform("session-set", ["start-added-torrents": "no"]) }
        await first.shutdown()

        let second = try await harness.startSession("daemon") { $0.stateDirectory = state }
        #expect(await second.restore().isEmpty)
        let settings = try await TransmissionRPC(session: second, sessionID: "id", fetch: { _ in [] }, close: {})
            .perform("session-get", ["fields": ["download-dir", "start-added-torrents"]])
        #expect(settings["download-dir"]?.string == chosen && settings["start-added-torrents"] == false)
        await second.shutdown()

        // A run that names its download directory keeps it; start-added-torrents still comes back.
        let third = try await harness.startSession("daemon") {
            $0.stateDirectory = state
            $0.restoresDownloadDirectory = false
        }
        #expect(await third.restore().isEmpty)
        #expect(await third.downloadDirectory == harness.root.appendingPathComponent("daemon").path)
        #expect(await third.startAddedTorrents == false)
        await harness.stopAll()
    }

    /// `peer-port`, `peer-limit-global`, `peer-limit-per-torrent` and a torrent's `peer-limit`
    /// come back next start; what that run's own settings name wins. The next start restores
    /// before it runs, as `shoal --headless` does: the listener moves before any accept loop.
    @Test func peerPortAndLimitsSurviveARestart() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let state = harness.root.appendingPathComponent("state").path
        let first = try await harness.startSession("daemon") { $0.stateDirectory = state }
        let rpc = TransmissionRPC(session: first, sessionID: "id", fetch: { _ in [] }, close: {})
        let (probe, port) = try LoopbackSocket.listener()
        close(probe)
        _ = try await rpc.perform("session-set", ["peer-port": .int(port), "peer-limit-global": 77, "peer-limit-per-torrent": 9])
        let torrent = try harness.makeTorrent(name: "limited.bin", files: nil, singleSize: 40_000, pieceLength: 16 << 10,
                                              in: harness.root.appendingPathComponent("source"), seed: 5)
        try await first.add(torrent)
        _ = try await rpc.perform("torrent-set", ["ids": [.string(torrent.infoHash.hex)], "peer-limit": 3])
        await #expect(throws: (any Error).self) { _ = try await rpc.perform("torrent-set", ["peer-limit": "many"]) }
        await first.shutdown()

        var config = EngineConfig(downloadDirectory: harness.root.appendingPathComponent("daemon").path, listenPort: 0, bindAddress: "127.0.0.1")
        config.stateDirectory = state
        let second = try await Session.start(config)
        #expect(await second.restore().isEmpty)
        #expect(Int(second.listenPort) == port)
        let running = Task { await second.run() }
        let hello = Handshake(infoHash: torrent.infoHash, peerID: .generate()).encoded
        #expect(await LoopbackSocket.exchange(hello, port: port) != nil, "the restored port is served")
        let again = TransmissionRPC(session: second, sessionID: "id", fetch: { _ in [] }, close: {})
        let settings = try await again.perform("session-get", ["fields": ["peer-port", "peer-limit-global", "peer-limit-per-torrent"]])
        #expect(settings["peer-port"]?.int == port && settings["peer-limit-global"]?.int == 77 && settings["peer-limit-per-torrent"]?.int == 9)
        let rows = try JSONParser.parse(JSONWriter.bytes(.object(try await again.perform("torrent-get", ["fields": ["peer-limit"]]))))
        #expect(rows["torrents"]?.array?.first?["peer-limit"]?.int == 3)
        await second.shutdown()
        await running.value

        // This run names the global limit and the port (flags or config file): those win.
        config.maxPeersTotal = 300
        config.restoresPeerLimitGlobal = false
        config.restoresPeerPort = false
        let third = try await Session.start(config)
        #expect(await third.restore().isEmpty)
        #expect(third.peerBudget.limit == 300 && Int(third.listenPort) != port)
        #expect(await third.peerLimitPerTorrent == 9)
        await third.shutdown()
    }
}

