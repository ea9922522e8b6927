import Foundation
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Synchronization
import Testing

/// Scrapes of one tracker for several torrents share a request; a tracker that answers only
/// the first torrent of a batch is asked one at a time from then on.
@Suite("Scrapes batched per tracker")
struct ScrapeBatcherTests {
    /// The `info_hash`es of a request line, percent-decoded.
    static func hashes(in request: String) -> [InfoHash] {
        let line = request.split(separator: "\r\n").first.map(String.init) ?? ""
        return line.components(separatedBy: "info_hash=").dropFirst().compactMap { part in
            var bytes: [UInt8] = []
            var rest = Substring(part.prefix { $0 != "&" && $0 != " " })
            while let first = rest.first {
                if first == "%", rest.count >= 3, let byte = UInt8(rest.dropFirst().prefix(2), radix: 16) {
                    bytes.append(byte)
                    rest = rest.dropFirst(3)
                } else {
                    bytes.append(contentsOf: Array(String(first).utf8))
                    rest = rest.dropFirst()
                }
            }
            return InfoHash(bytes: bytes)
        }
    }

    @Test func aBatchSharesOneRequestAndAPartialAnswerMeansOneAtATime() async throws {
        let seen = Mutex<[[InfoHash]]>([])
        // Answers for the first torrent asked about only, as trackers that ignore all but one
        // info_hash do.
        let tracker = try FakeHTTPServer { request in
            let asked = Self.hashes(in: request)
            seen.withLock { $0.append(asked) }
            guard let first = asked.first else { return nil }
            let counts: BencodeValue = .dict(["complete": .integer(7), "downloaded": .integer(3), "incomplete": .integer(2)])
            return BencodeEncoder.encode(.dict(["files": .dictionary([first.bytes: counts])]))
        }
        defer { tracker.stop() }
        let torrents = (1...3).map { InfoHash(bytes: [UInt8](repeating: UInt8($0), count: 20))! }
        // One request a second, the burst spent: the first asker waits for its turn, and the
        // others join it meanwhile.
        let gate = TrackerGate(perSecond: 1)
        #expect(await gate.admit())
        let retry = UDPTrackerClient.Retry(firstTimeout: .milliseconds(500), attempts: 1)
        let first = await withTaskGroup(of: (InfoHash, ScrapeCounts?).self) { group in
            for hash in torrents {
                group.addTask { (hash, await gate.scrapes.counts(for: hash, at: tracker.announceURL, gate: gate, timeout: .seconds(5), retry: retry)) }
            }
            return await group.reduce(into: [InfoHash: ScrapeCounts?]()) { $0[$1.0] = $1.1 }
        }
        let requests = seen.withLock { $0 }
        #expect(requests.count == 1 && Set(requests[0]) == Set(torrents), "one request for all three: \(requests)")
        let answered = first.filter { $0.value != nil }.map { $0.key }
        #expect(answered == [requests[0][0]], "only the first torrent of the batch was answered")
        #expect(first[requests[0][0]]??.seeders == 7)

        // From now on, one torrent a request: each gets its answer.
        let missing = torrents.filter { $0 != requests[0][0] }
        for hash in missing {
            let counts = await gate.scrapes.counts(for: hash, at: tracker.announceURL, gate: gate, timeout: .seconds(5), retry: retry)
            #expect(counts?.seeders == 7 && counts?.leechers == 2)
        }
        let later = seen.withLock { Array($0.dropFirst()) }
        #expect(later == missing.map { [$0] })
        #expect(await gate.scrapes.requestsSent == 3)
    }
}
