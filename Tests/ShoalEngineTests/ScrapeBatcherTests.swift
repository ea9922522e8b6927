import Dispatch
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

    @Test func askersWaitingShareTheNextRequestAndAPartialAnswerMeansOneAtATime() async throws {
        let seen = Mutex<[[InfoHash]]>([])
        // The first request is held until the test lets it go, so the others are known to be
        // waiting; answers name the first torrent asked about only, as trackers that ignore all
        // but one info_hash do.
        let release = DispatchSemaphore(value: 0)
        let tracker = try FakeHTTPServer { request in
            let asked = Self.hashes(in: request)
            let first = seen.withLock { list in
                list.append(asked)
                return list.count == 1
            }
            if first { release.wait() }
            guard let one = asked.first else { return nil }
            let counts: BencodeValue = .dict(["complete": .integer(7), "downloaded": .integer(3), "incomplete": .integer(2)])
            return BencodeEncoder.encode(.dict(["files": .dictionary([one.bytes: counts])]))
        }
        defer { tracker.stop() }
        let torrents = (1...3).map { InfoHash(bytes: [UInt8](repeating: UInt8($0), count: 20))! }
        let gate = TrackerGate(perSecond: 0)
        let batcher = gate.scrapes
        let url = tracker.announceURL
        let retry = UDPTrackerClient.Retry(firstTimeout: .milliseconds(500), attempts: 1)
        let first = await withTaskGroup(of: (InfoHash, ScrapeCounts?).self) { group in
            group.addTask { (torrents[0], await batcher.counts(for: torrents[0], at: url, gate: gate, timeout: .seconds(30), retry: retry)) }
            // The first asker leads: its request is out (and held) before the others ask.
            #expect(await SwarmHarness.poll(timeout: .seconds(30)) { seen.withLock { $0.count } == 1 })
            for hash in torrents.dropFirst() {
                group.addTask { (hash, await batcher.counts(for: hash, at: url, gate: gate, timeout: .seconds(30), retry: retry)) }
            }
            #expect(await SwarmHarness.poll(timeout: .seconds(30)) { await batcher.waitingCount(at: url) == 2 })
            release.signal()
            return await group.reduce(into: [InfoHash: ScrapeCounts?]()) { $0[$1.0] = $1.1 }
        }
        // The two that waited went together, led by the first of them; the tracker answered
        // for one of them only.
        let requests = seen.withLock { $0 }
        #expect(requests.count == 2 && requests[0] == [torrents[0]] && Set(requests[1]) == Set(torrents.dropFirst()), "\(requests)")
        guard requests.count == 2, requests[1].count == 2 else { return }
        let (answered, leftOut) = (requests[1][0], requests[1][1])
        #expect(first[torrents[0]]??.seeders == 7 && first[answered]??.seeders == 7)
        #expect(first[leftOut] == .some(nil), "left out of the partial answer")

        // From now on, one torrent a request: the one left out gets its answer.
        let counts = await batcher.counts(for: leftOut, at: url, gate: gate, timeout: .seconds(5), retry: retry)
        #expect(counts?.seeders == 7 && counts?.leechers == 2)
        #expect(seen.withLock { $0.last } == [leftOut])
        #expect(await batcher.requestsSent == 3)
    }

    /// A leader whose torrent is paused while it waits for the session's turn hands the lead
    /// on: the torrents that waited for it still get their request, and their answers.
    @Test func aLeaderCancelledBeforeItsTurnHandsTheLeadOn() async throws {
        let seen = Mutex<[[InfoHash]]>([])
        let tracker = try FakeHTTPServer { request in
            let asked = Self.hashes(in: request)
            seen.withLock { $0.append(asked) }
            let counts: BencodeValue = .dict(["complete": .integer(5), "downloaded": .integer(1), "incomplete": .integer(4)])
            return BencodeEncoder.encode(.dict(["files": .dictionary(Dictionary(uniqueKeysWithValues: asked.map { ($0.bytes, counts) }))]))
        }
        defer { tracker.stop() }
        let torrents = (1...3).map { InfoHash(bytes: [UInt8](repeating: UInt8($0 + 10), count: 20))! }
        // One a second with twenty turns taken: the leader's turn is twenty seconds off, time
        // enough for the others to queue behind it even under a full test run's load (six
        // seconds were not: the leader's turn came and it sent before it was cancelled).
        let gate = TrackerGate(perSecond: 1)
        let hogs = (0..<20).map { _ in Task { await gate.admit() } }
        #expect(await SwarmHarness.poll(timeout: .seconds(30)) { gate.waiting >= 4 })
        for hog in hogs { hog.cancel() }
        let batcher = gate.scrapes
        let url = tracker.announceURL
        let retry = UDPTrackerClient.Retry(firstTimeout: .milliseconds(500), attempts: 1)
        let leader = Task { await batcher.counts(for: torrents[0], at: url, gate: gate, timeout: .seconds(30), retry: retry) }
        #expect(await SwarmHarness.poll(timeout: .seconds(30)) { await batcher.isLed(url) }, "the first asker leads")
        let answers = await withTaskGroup(of: (InfoHash, ScrapeCounts?).self) { group in
            for hash in torrents.dropFirst() {
                group.addTask { (hash, await batcher.counts(for: hash, at: url, gate: gate, timeout: .seconds(30), retry: retry)) }
            }
            #expect(await SwarmHarness.poll(timeout: .seconds(30)) { await batcher.waitingCount(at: url) == 2 })
            #expect(seen.withLock { $0.isEmpty }, "nothing sent before the leader's turn")
            leader.cancel()
            return await group.reduce(into: [InfoHash: ScrapeCounts?]()) { $0[$1.0] = $1.1 }
        }
        #expect(await leader.value == nil, "the paused leader gets no answer")
        #expect(answers[torrents[1]]??.seeders == 5 && answers[torrents[2]]??.seeders == 5, "\(answers)")
        let requests = seen.withLock { $0 }
        #expect(requests.count == 1 && Set(requests.first ?? []) == Set(torrents.dropFirst()), "one request for the two: \(requests)")
        #expect(await batcher.requestsSent == 1)
    }
}
