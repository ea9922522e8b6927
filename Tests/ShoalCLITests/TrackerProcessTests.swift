import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// `shoal tracker` as its own process: announce and scrape over HTTP and UDP, then a storm of
/// malformed input, after which it must still answer a good announce.
@Suite("shoal tracker process", .serialized)
struct TrackerProcessTests {
    static let hash = InfoHash(bytes: [UInt8](repeating: 0xAB, count: 20))!
    static let retry = UDPTrackerClient.Retry(firstTimeout: .seconds(2), attempts: 3)

    static func request(port: UInt16, left: Int64, event: AnnounceRequest.Event = .started) -> AnnounceRequest {
        AnnounceRequest(infoHash: hash, peerID: .generate(), port: port, left: left, event: event)
    }

    static func httpAnnounce(_ request: AnnounceRequest, _ tracker: TrackerProcess) async throws -> AnnounceResponse {
        let reply = try await HTTPClient.fetch(request.url(announce: tracker.httpURL), timeout: .seconds(10))
        #expect(reply.status == 200)
        return try AnnounceResponse(httpBody: reply.body)
    }

    @Test func announceAndScrapeOverHTTPAndUDP() async throws {
        let tracker = try await TrackerProcess.start()
        let seed = try await Self.httpAnnounce(Self.request(port: 1111, left: 0, event: .completed), tracker)
        #expect(seed.peers.isEmpty && seed.complete == 1 && seed.incomplete == 0)

        let leech = try await Self.httpAnnounce(Self.request(port: 2222, left: 10), tracker)
        #expect(leech.peers == [PeerAddress(host: "127.0.0.1", port: 1111)], "the asker is never sent itself")
        #expect(leech.complete == 1 && leech.incomplete == 1 && leech.interval == 60)

        let udp = try await UDPTrackerClient.announce(Self.request(port: 3333, left: 10), to: tracker.udpURL, retry: Self.retry)
        #expect(Set(udp.peers) == [PeerAddress(host: "127.0.0.1", port: 1111), PeerAddress(host: "127.0.0.1", port: 2222)])
        #expect(udp.complete == 1 && udp.incomplete == 2)

        // Both scrapes see the same swarm: 1 seeder (who completed), 2 leechers.
        let expected = ScrapeCounts(seeders: 1, completed: 1, leechers: 2)
        let udpScrape = try await UDPTrackerClient.scrape([Self.hash], at: tracker.udpURL, retry: Self.retry)
        #expect(udpScrape == [expected])
        let scrapeURL = try #require(ScrapeResponse.url(announce: tracker.httpURL, hashes: [Self.hash]))
        let httpScrape = try ScrapeResponse.parse(httpBody: try await HTTPClient.fetch(scrapeURL, timeout: .seconds(10)).body)
        #expect(httpScrape == [Self.hash: expected])

        // `stopped` takes a peer out; the counts follow.
        _ = try await Self.httpAnnounce(Self.request(port: 2222, left: 10, event: .stopped), tracker)
        let after = try await UDPTrackerClient.scrape([Self.hash], at: tracker.udpURL, retry: Self.retry)
        #expect(after.first?.leechers == 2, "a stop from a new peer id removes nothing")
        let stats = try await HTTPClient.fetch(tracker.httpURL.replacingOccurrences(of: "/announce", with: "/stats?format=json"),
                                            timeout: .seconds(10))
        #expect(String(decoding: stats.body, as: UTF8.self).contains("\"torrents\":1"))
        #expect(await tracker.interrupt() == 0)
    }

    /// Malformed HTTP (as text and as raw bytes) and random datagrams; the tracker answers what it
    /// can with a failure reason, drops the rest, and still serves a good announce afterwards.
    @Test func survivesMalformedInput() async throws {
        let tracker = try await TrackerProcess.start()
        let badQueries = [
            "/announce?info_hash=%zz&peer_id=12345678901234567890&port=1&left=0",
            "/announce?info_hash=1234567890123456789&peer_id=12345678901234567890&port=1&left=0",
            "/announce?info_hash=12345678901234567890&peer_id=12345678901234567890&left=0",
            "/announce?info_hash=12345678901234567890&peer_id=12345678901234567890&port=99999&left=0",
            "/announce?info_hash=12345678901234567890&peer_id=12345678901234567890&port=1&left=-5",
            "/announce?" + String(repeating: "a=b&", count: 2000),
            "/announce?%",
            "/scrape?info_hash=%",
            "/stats?format=%ff%fe",
        ]
        for query in badQueries {
            // The tracker may also just close on a request it cannot parse; it must not crash.
            guard let reply = try? await HTTPClient.fetch("http://127.0.0.1:\(tracker.httpPort)" + query, timeout: .seconds(10)) else {
                continue
            }
            if query.hasPrefix("/announce") {
                #expect(throws: AnnounceResponse.Failure.self, "\(query)") { try AnnounceResponse(httpBody: reply.body) }
            }
        }
        // A huge numwant is not an error: it is capped, as every tracker does.
        let huge = "/announce?info_hash=12345678901234567890&peer_id=12345678901234567890&port=1&left=0&numwant=99999999999999999999999"
        let capped = try AnnounceResponse(httpBody: try await HTTPClient.fetch("http://127.0.0.1:\(tracker.httpPort)" + huge,
                                                                            timeout: .seconds(10)).body)
        #expect(capped.peers.count <= 200)
        var random = SeededRandom(seed: 44)
        let rawRequests: [[UInt8]] = [
            Array("GET\r\n\r\n".utf8), Array("GET / HTTP/9.9\r\n\r\n".utf8), Array("\r\n\r\n\r\n".utf8),
            Array("GET /announce HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".utf8),
            Array("GET /announce HTTP/1.1\r\n".utf8) + Array(String(repeating: "X-A: b\r\n", count: 20_000).utf8),
            [],
        ] + (0..<50).map { _ in (0..<Int.random(in: 1...3000, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) } }
        for bytes in rawRequests { _ = await LoopbackSocket.exchange(bytes, port: tracker.httpPort, timeout: 1) }

        let magic: [UInt8] = [0, 0, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80]
        for index in 0..<3000 {
            let length = Int.random(in: 0...200, using: &random)
            var packet = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            // Half of them look like the protocol, to get past the first checks.
            if index.isMultiple(of: 2), packet.count >= 16 {
                packet.replaceSubrange(0..<8, with: index.isMultiple(of: 4) ? magic : Array(packet[0..<8]))
                packet.replaceSubrange(8..<12, with: [0, 0, 0, UInt8(index % 5)])
            }
            LoopbackSocket.sendDatagram(packet, port: tracker.udpPort)
        }

        let http = try await Self.httpAnnounce(Self.request(port: 4444, left: 1), tracker)
        #expect(http.interval == 60)
        let udp = try await UDPTrackerClient.announce(Self.request(port: 5555, left: 1), to: tracker.udpURL, retry: Self.retry)
        #expect(udp.peers == [PeerAddress(host: "127.0.0.1", port: 4444)])
        #expect(tracker.process.process.isRunning)
        #expect(await tracker.interrupt() == 0)
    }

    @Test func udpCanBeTurnedOffAndBadOptionsAreRefused() async throws {
        let process = try ExternalProcess(ShoalBinary.url.path, ["tracker", "--bind", "127.0.0.1", "--http-port", "0", "--udp-port", "-1"],
                                          logName: "tracker-no-udp")
        #expect(await process.waitForOutput("tracker: http://", timeout: .seconds(60)), "\(process.output)")
        #expect(!process.output.contains("udp://"))
        process.process.interrupt()
        #expect(await process.wait(timeout: .seconds(10)) == 0)
        for bad in [["--udp-port", "-2"], ["--http-port", "70000"], ["--interval", "0"], ["--whitelist", "/nonexistent/list"]] {
            let result = try await ShoalBinary.run(["tracker", "--bind", "127.0.0.1", "--http-port", "0"] + bad)
            #expect(result.status != 0 && !result.stderr.isEmpty, "\(bad): \(result.stderr)")
        }
    }
}
