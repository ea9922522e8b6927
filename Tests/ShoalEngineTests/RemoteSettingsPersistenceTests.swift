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
}
