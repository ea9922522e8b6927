import Testing
@testable import ShoalCore

@Suite("Queue planner")
struct QueuePlannerTests {
    typealias C = QueuePlanner.Candidate

    @Test func firstInQueueOrderGetTheSlots() {
        let candidates = (0..<6).map { C(id: $0, complete: $0 >= 4, running: false) }
        #expect(QueuePlanner.running(candidates, downloads: 2, seeds: 1) == [0, 1, 4])
        #expect(QueuePlanner.running(candidates, downloads: 0, seeds: 0) == Set(0..<6), "0 is no limit")
    }

    /// A stalled download keeps running but frees its slot for the next in line; a stalled one
    /// not running (queued) does not jump the queue.
    @Test func stalledDownloadsGiveUpTheirSlot() {
        let candidates = [C(id: 0, complete: false, running: true, stalled: true), C(id: 1, complete: false, running: true),
                          C(id: 2, complete: false, running: false), C(id: 3, complete: false, running: false)]
        #expect(QueuePlanner.running(candidates, downloads: 2, seeds: 0) == [0, 1, 2])
    }

    /// Run over many simulated rounds: torrents finish one by one, and the queue always keeps
    /// exactly min(limit, waiting) downloading, never more.
    @Test func queueDrainsAsDownloadsFinish() {
        var complete = Set<Int>()
        var running = Set<Int>()
        for round in 0..<40 {
            let candidates = (0..<10).map { C(id: $0, complete: complete.contains($0), running: running.contains($0)) }
            running = QueuePlanner.running(candidates, downloads: 3, seeds: 2)
            let downloading = running.filter { !complete.contains($0) }
            #expect(downloading.count == min(3, 10 - complete.count), "round \(round)")
            #expect(running.filter(complete.contains).count <= 2)
            // Every fourth round the lowest downloading one finishes.
            if round % 4 == 3, let done = downloading.min() { complete.insert(done) }
        }
        #expect(complete.count == 10)
    }
}
