import Foundation
import Logging
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Testing

/// The Transmission RPC in process: access rules over HTTP, the methods over a real session,
/// and hostile requests.
@Suite("Remote control (Transmission RPC)", .serialized)
struct RemoteControlTests {
    struct Daemon {
        let harness: SwarmHarness
        let session: Session
        let server: RPCServer
        let access: RPCAccess
        var url: String { "http://127.0.0.1:\(server.port)\(RPCServer.path)" }

        /// One RPC call with the session id; the parsed body and the HTTP status.
        func call(_ method: String, _ arguments: JSONValue = [:]) async throws -> (status: Int, body: JSONValue) {
            let body = JSONWriter.bytes(["method": .string(method), "arguments": arguments, "tag": 5])
            let response = try await HTTPClient.send(.POST, url, headers: [("X-Transmission-Session-Id", access.sessionID)] + auth,
                                                     body: body, timeout: .seconds(20))
            return (response.status, try JSONParser.parse(response.body))
        }

        var auth: [(String, String)] {
            guard access.credentials != nil else { return [] }
            return [("Authorization", "Basic " + Data("admin:secret".utf8).base64EncodedString())]
        }
    }

    static func start(credentials: RPCAccess.Credentials? = nil, limits: RPCServer.Limits = RPCServer.Limits()) async throws -> Daemon {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let session = try await harness.startSession("daemon")
        let access = RPCAccess(credentials: credentials)
        let rpc = TransmissionRPC(session: session, sessionID: access.sessionID, fetch: { _ in [] }, close: {})
        let server = try await RPCServer.start(rpc: rpc, access: access, bind: ["127.0.0.1"], port: 0, limits: limits,
                                               logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        Task { await server.run() }
        return Daemon(harness: harness, session: session, server: server, access: access)
    }

    static func stop(_ daemon: Daemon) async {
        await daemon.server.shutdown()
        await daemon.harness.stopAll()
    }

    @Test func accessChecksRunInTransmissionsOrder() {
        let hash = RPCAccess.Credentials.hash("secret", salt: "pepper")
        #expect(RPCAccess.Credentials.isHash(hash) && !RPCAccess.Credentials.isHash("secret"))
        let open = RPCAccess(sessionID: "ID")
        #expect(open.verdict { [:][$0] } == .needsSessionID)
        #expect(open.verdict { ["x-transmission-session-id": "ID", "host": "localhost:9091"][$0] } == .allowed)
        #expect(open.verdict { ["x-transmission-session-id": "ID", "host": "[::1]:9091"][$0] } == .allowed)
        #expect(open.verdict { ["x-transmission-session-id": "ID", "host": "10.1.2.3"][$0] } == .allowed)
        #expect(open.verdict { ["x-transmission-session-id": "ID", "host": "evil.example:9091"][$0] } == .misdirected(host: "evil.example:9091"))
        let locked = RPCAccess(sessionID: "ID", credentials: .init(user: "admin", passwordHash: hash))
        let good = "Basic " + Data("admin:secret".utf8).base64EncodedString()
        let bad = "Basic " + Data("admin:guess".utf8).base64EncodedString()
        #expect(locked.verdict { ["x-transmission-session-id": "ID"][$0] } == .unauthorized)
        #expect(locked.verdict { ["authorization": bad, "x-transmission-session-id": "ID"][$0] } == .unauthorized)
        // With a password a rebinding page gets nowhere anyway: any host passes, the id is still asked.
        #expect(locked.verdict { ["authorization": good, "host": "evil.example"][$0] } == .needsSessionID)
        #expect(locked.verdict { ["authorization": good, "x-transmission-session-id": "ID"][$0] } == .allowed)
    }

    @Test func sessionIDDanceAndAuthenticationOverHTTP() async throws {
        let daemon = try await Self.start(credentials: .init(user: "admin", passwordHash: RPCAccess.Credentials.hash("secret")))
        let body = JSONWriter.bytes(["method": "session-get"])
        let none = try await HTTPClient.send(.POST, daemon.url, body: body, timeout: .seconds(10))
        #expect(none.status == 401 && none.header("WWW-Authenticate")?.contains("Basic") == true)
        let wrong = try await HTTPClient.send(.POST, daemon.url, headers: [("Authorization", "Basic " + Data("admin:nope".utf8).base64EncodedString())],
                                              body: body, timeout: .seconds(10))
        #expect(wrong.status == 401)
        let first = try await HTTPClient.send(.POST, daemon.url, headers: daemon.auth, body: body, timeout: .seconds(10))
        #expect(first.status == 409 && first.header("X-Transmission-Session-Id") == daemon.access.sessionID)
        let reply = try await daemon.call("session-get")
        #expect(reply.status == 200 && reply.body["result"] == "success" && reply.body["tag"] == 5)
        #expect(reply.body["arguments"]?["rpc-version"]?.int == TransmissionRPC.rpcVersion)
        #expect(reply.body["arguments"]?["session-id"]?.string == daemon.access.sessionID)
        await Self.stop(daemon)
    }

    @Test func foreignHostIsMisdirectedWithoutAPassword() async throws {
        let daemon = try await Self.start()
        let body = JSONWriter.bytes(["method": "session-get"])
        // HTTPClient names 127.0.0.1 as the host; a rebinding page's request names its own.
        let ok = try await HTTPClient.send(.POST, daemon.url, headers: [("X-Transmission-Session-Id", daemon.access.sessionID)],
                                           body: body, timeout: .seconds(10))
        #expect(ok.status == 200)
        let rebinding = await RawHTTP.exchange(port: daemon.server.port, """
            POST /transmission/rpc HTTP/1.1\r\nHost: attacker.example:9091\r\nX-Transmission-Session-Id: \(daemon.access.sessionID)\r\n\
            Content-Length: \(body.count)\r\nConnection: close\r\n\r\n
            """ + String(decoding: body, as: UTF8.self))
        #expect(rebinding.hasPrefix("HTTP/1.1 421"), "\(rebinding.prefix(80))")
        await Self.stop(daemon)
    }

    /// shoal attach's own methods for the Peers tab and per-torrent limits reach the session.
    @Test func shoalMethodsForPeersAndTorrentLimits() async throws {
        let daemon = try await Self.start()
        let seedDir = daemon.harness.root.appendingPathComponent("seed")
        let torrent = try daemon.harness.makeTorrent(name: "one.bin", files: nil, singleSize: 40_000, pieceLength: 16 << 10,
                                                     in: seedDir, seed: 9)
        let hash = try await daemon.session.add(torrent)
        let limited = try await daemon.call("shoal-set-limits", ["ids": [.string(hash.hex)], "upload": 123_456])
        #expect(limited.body["result"] == "success", "\(limited.body)")
        #expect(await daemon.session.snapshot().torrents.first?.details.uploadLimit == 123_456)
        #expect(await daemon.session.snapshot().uploadLimit == 0, "the session's own limit is untouched")
        let detail = try await daemon.call("torrent-get", ["ids": [.string(hash.hex)], "fields": ["shoal-detail"]])
        #expect(detail.body["arguments"]?["torrents"]?.array?.first?["shoal-detail"]?["uploadLimit"]?.int == 123_456)
        let ordered = try await daemon.call("torrent-set", ["ids": [.string(hash.hex)], "sequentialDownload": true])
        #expect(ordered.body["result"] == "success", "\(ordered.body)")
        let seen = try await daemon.call("torrent-get", ["ids": [.string(hash.hex)], "fields": ["sequentialDownload"]])
        #expect(seen.body["arguments"]?["torrents"]?.array?.first?["sequentialDownload"] == true)
        #expect(try await daemon.call("queue-move-bottom", ["ids": [.string(hash.hex)]]).body["result"] == "success")
        let kick = try await daemon.call("shoal-close-peer", ["ids": [.string(hash.hex)], "address": "127.0.0.1:1", "ban": true])
        #expect(kick.body["result"]?.string?.contains("no connection to 127.0.0.1:1") == true, "\(kick.body)")
        let bad = try await daemon.call("shoal-close-peer", ["ids": [.string(hash.hex)]])
        #expect(bad.body["result"]?.string?.contains("address") == true)
        await Self.stop(daemon)
    }

    @Test func methodsDriveTheSession() async throws {
        let daemon = try await Self.start()
        let seedDir = daemon.harness.root.appendingPathComponent("seed")
        let torrent = try daemon.harness.makeTorrent(name: "album", files: [("a.flac", 40_000), ("b.flac", 30_000), ("c.txt", 40_000)],
                                                     pieceLength: 16 << 10, in: seedDir, seed: 3)
        let metainfo = Data(torrent.fileBytes).base64EncodedString()
        let added = try await daemon.call("torrent-add", ["metainfo": .string(metainfo), "paused": true, "files-unwanted": [2],
                                                          "labels": ["music"]])
        #expect(added.body["result"] == "success", "\(added.body)")
        let id = try #require(added.body["arguments"]?["torrent-added"]?["id"]?.int)
        #expect(added.body["arguments"]?["torrent-added"]?["hashString"]?.string == torrent.infoHash.hex)
        let again = try await daemon.call("torrent-add", ["metainfo": .string(metainfo)])
        #expect(again.body["arguments"]?["torrent-duplicate"]?["id"]?.int == id)

        let fields: JSONValue = ["id", "name", "status", "files", "fileStats", "labels", "totalSize", "sizeWhenDone", "downloadDir",
                                 "pieceCount", "pieces", "trackerStats", "peers", "noSuchField", "seedRatioMode"]
        var got = try await daemon.call("torrent-get", ["ids": .array([.string(torrent.infoHash.hex)]), "fields": fields])
        var row = try #require(got.body["arguments"]?["torrents"]?.array?.first)
        #expect(row["id"]?.int == id && row["name"] == "album" && row["status"]?.int == 0 && row["noSuchField"] == nil)
        // Wanted is counted in pieces, as Transmission counts it: c.txt's first piece is b.flac's last.
        #expect(row["totalSize"]?.int == 110_000 && row["sizeWhenDone"]?.int == 81_920 && row["labels"] == ["music"])
        #expect(row["files"]?.array?.count == 3 && row["fileStats"]?.array?[2]["wanted"] == false)
        #expect(row["downloadDir"]?.string == daemon.harness.root.appendingPathComponent("daemon").path)
        #expect(row["trackerStats"]?.array?.first?["announce"]?.string == daemon.harness.tracker.announceURL)

        _ = try await daemon.call("torrent-set", ["ids": .int(id), "files-wanted": [2], "priority-high": [0], "priority-low": [1], "labels": ["a", "b"],
                                                  "seedRatioMode": 1, "seedRatioLimit": 1.5, "downloadLimit": 100, "downloadLimited": true])
        got = try await daemon.call("torrent-get", ["ids": .int(id), "fields": ["fileStats", "labels", "seedRatioMode", "seedRatioLimit",
                                                                             "downloadLimit", "downloadLimited"]])
        row = try #require(got.body["arguments"]?["torrents"]?.array?.first)
        #expect(row["fileStats"]?.array?.map { $0["wanted"] } == [true, true, true])
        #expect(row["fileStats"]?.array?.map { $0["priority"]?.int } == [1, -1, 0], "high, low and normal as Transmission numbers them")
        #expect(row["labels"] == ["a", "b"] && row["seedRatioMode"]?.int == 1 && row["seedRatioLimit"]?.double == 1.5)
        #expect(row["downloadLimit"]?.int == 100 && row["downloadLimited"] == true)

        let trackerAdded = try await daemon.call("torrent-set", ["ids": .int(id), "trackerAdd": ["http://127.0.0.1:1/announce"]])
        #expect(trackerAdded.body["result"] == "success", "\(trackerAdded.body)")
        let list = try await daemon.call("torrent-get", ["ids": .int(id), "fields": ["trackerList"]])
        #expect(list.body["arguments"]?["torrents"]?.array?.first?["trackerList"]?.string?.hasSuffix("\n\nhttp://127.0.0.1:1/announce") == true)
        let refused = try await daemon.call("torrent-set", ["ids": .int(id), "queuePosition": 3])
        #expect(refused.body["result"]?.string?.contains("not supported") == true)
        #expect(try await daemon.call("torrent-start", ["ids": .int(id)]).body["result"] == "success")
        #expect(await daemon.harness.waitUntil(timeout: .seconds(30)) {
            let status = try? await daemon.call("torrent-get", ["ids": .int(id), "fields": ["status"]]).body["arguments"]?["torrents"]?.array?.first?["status"]?.int
            return status != nil && status != 0
        })
        #expect(try await daemon.call("session-set", ["speed-limit-down": 300, "speed-limit-down-enabled": true, "alt-speed-up": 20,
                                                      "seedRatioLimit": 3, "seedRatioLimited": true]).body["result"] == "success")
        let settings = try await daemon.call("session-get", ["fields": ["speed-limit-down", "speed-limit-down-enabled", "alt-speed-up",
                                                                         "seedRatioLimit", "seedRatioLimited", "version"]])
        #expect(settings.body["arguments"] == ["speed-limit-down": 300, "speed-limit-down-enabled": true, "alt-speed-up": 20,
                                               "seedRatioLimit": 3, "seedRatioLimited": true, "version": .string(TransmissionRPC.versionString)])
        #expect(await daemon.session.snapshot().downloadLimit == 300_000)
        // A setting taken only at start is refused with its name, not ignored.
        let random = try await daemon.call("session-set", ["peer-port-random-on-start": true])
        #expect(random.body["result"]?.string?.contains("peer-port-random-on-start: set at start") == true)

        #expect(try await daemon.call("torrent-remove", ["ids": .int(id)]).body["result"] == "success")
        let recent = try await daemon.call("torrent-get", ["ids": "recently-active", "fields": ["id"]])
        #expect(recent.body["arguments"]?["removed"] == [.int(id)])
        #expect(try await daemon.call("torrent-get", ["ids": .int(id), "fields": ["id"]]).body["arguments"]?["torrents"] == [])
        #expect(try await daemon.call("no-such-method").body["result"] == "method name not recognized")
        let corrupt = try await daemon.call("torrent-add", ["metainfo": .string(Data("d4:infoe".utf8).base64EncodedString())])
        #expect(corrupt.body["result"]?.string?.hasPrefix("invalid or corrupt torrent file") == true)
        let space = try await daemon.call("free-space", ["path": "/"])
        #expect((space.body["arguments"]?["size-bytes"]?.int ?? -1) > 0)
        await Self.stop(daemon)
    }

    /// Stopping, the server closes the connections it has open, not only its listener: a remote
    /// waiting there for an answer is cut off at once (its next try is refused) instead of
    /// waiting for a session that is busy saving and closing.
    @Test func shutdownClosesOpenConnections() async throws {
        var limits = RPCServer.Limits()
        limits.requestTimeout = .seconds(300)  // only the shutdown can close it in this test
        let daemon = try await Self.start(limits: limits)
        let head = Array("POST /transmission/rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50\r\n\r\n{\"method\"".utf8)
        let port = daemon.server.port
        let waiting = Task { await LoopbackSocket.exchange(head, port: port, timeout: 120) }
        #expect(await SwarmHarness.poll(timeout: .seconds(60)) { daemon.server.openConnections == 1 }, "the request is being read")
        await daemon.server.shutdown()
        let reply = await waiting.value
        #expect(reply?.closedByPeer == true && reply?.bytes.isEmpty == true, "closed by the shutdown: \(String(describing: reply))")
        #expect(await LoopbackSocket.exchange(head, port: port) == nil, "and a new connection is refused")
        await daemon.harness.stopAll()
    }

    /// Malformed JSON, a 100 MB body and 1,000 requests at once get clear answers, and the
    /// daemon answers normally afterwards.
    @Test func hostileRequestsGetClearErrors() async throws {
        var limits = RPCServer.Limits()
        limits.maxConnections = 64
        limits.maxBody = 1 << 20
        let daemon = try await Self.start(limits: limits)
        let headers = [("X-Transmission-Session-Id", daemon.access.sessionID)]
        let malformed = try await HTTPClient.send(.POST, daemon.url, headers: headers, body: Array("{\"method\": ".utf8), timeout: .seconds(10))
        #expect(malformed.status == 400 && String(decoding: malformed.body, as: UTF8.self).contains("invalid JSON"))
        let deep = try await HTTPClient.send(.POST, daemon.url, headers: headers, body: Array(String(repeating: "[", count: 200_000).utf8),
                                             timeout: .seconds(10))
        #expect(deep.status == 400)
        // Declared too large: refused from the head, before a byte of the body is read.
        let huge = await RawHTTP.exchange(port: daemon.server.port, """
            POST /transmission/rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 104857600\r\n\r\n
            """)
        #expect(huge.hasPrefix("HTTP/1.1 413"), "\(huge.prefix(80))")
        // Sent chunked, with no length said: cut off at the limit.
        let chunk = String(repeating: "x", count: 2 << 20)
        let chunked = await RawHTTP.exchange(port: daemon.server.port, """
            POST /transmission/rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n\(String(chunk.utf8.count, radix: 16))\r\n\(chunk)\r\n0\r\n\r\n
            """)
        #expect(chunked.hasPrefix("HTTP/1.1 413"), "\(chunked.prefix(80))")

        let statuses = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<1000 {
                group.addTask {
                    (try? await HTTPClient.send(.POST, daemon.url, headers: headers, body: JSONWriter.bytes(["method": "session-stats"]),
                                                timeout: .seconds(60)).status) ?? -1
                }
            }
            var all: [Int] = []
            for await status in group { all.append(status) }
            return all
        }
        let answered = statuses.filter { $0 == 200 }.count
        let refused = statuses.filter { $0 == 503 }.count
        #expect(answered > 0 && answered + refused + statuses.filter { $0 == -1 }.count == 1000, "\(Dictionary(grouping: statuses) { $0 }.mapValues(\.count))")
        #expect(statuses.allSatisfy { [200, 503, -1].contains($0) })
        let after = try await daemon.call("session-stats")
        #expect(after.status == 200 && after.body["result"] == "success")
        await Self.stop(daemon)
    }

    /// Moving a complete torrent's data: the files go, and the torrent carries on complete
    /// there without hashing anything again.
    @Test func setLocationMovesDataWithoutRehashing() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let directory = harness.root.appendingPathComponent("home")
        let torrent = try harness.makeTorrent(name: "set", files: [("one.bin", 50_000), ("sub/two.bin", 20_000)], pieceLength: 16 << 10,
                                              in: directory, seed: 11)
        let session = try await harness.startSession("home") { $0.stateDirectory = harness.root.appendingPathComponent("state").path }
        let hash = try await session.add(torrent)
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await session.snapshot().torrents.first?.activity == .seeding })
        let target = harness.root.appendingPathComponent("elsewhere")
        try await session.setLocation(hash, directory: target.path, move: true)
        #expect(FileManager.default.fileExists(atPath: target.appendingPathComponent("set/sub/two.bin").path))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("set").path))
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await session.snapshot().torrents.first?.activity == .seeding })
        let moved = try #require(await session.snapshot().torrents.first)
        #expect(moved.piecesHashedOnCheck == 0 && moved.isComplete && moved.details.location == target.path)
        // Something already at the destination is never replaced: the move fails, the data
        // stays where it was, and the torrent carries on there.
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("set"), withIntermediateDirectories: true)
        await #expect(throws: StorageError.self) { try await session.setLocation(hash, directory: directory.path, move: true) }
        #expect(FileManager.default.fileExists(atPath: target.appendingPathComponent("set/one.bin").path))
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await session.snapshot().torrents.first?.activity == .seeding })
        #expect(await session.snapshot().torrents.first?.details.location == target.path)
        await harness.stopAll()
    }
}

/// One raw HTTP exchange over a socket: for requests `HTTPClient` would not send.
enum RawHTTP {
    static func exchange(port: Int, _ request: String) async -> String {
        let reply = await LoopbackSocket.exchange(Array(request.utf8), port: port, timeout: 10)
        return String(decoding: reply?.bytes ?? [], as: UTF8.self)
    }
}
