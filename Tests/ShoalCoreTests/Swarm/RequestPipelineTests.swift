import ShoalCore
import Testing

/// When a peer's requests are topped up: in batches for a deep pipeline, at once when empty.
@Suite("Request pipeline top-ups")
struct RequestPipelineTests {
    @Test func aDeepPipelineIsToppedUpInBatches() {
        // Depth 256: batches of 16. Blocks arriving one by one send nothing until 16 are missing.
        for outstanding in 241...256 {
            #expect(RequestPipeline.topUp(depth: 256, outstanding: outstanding, torrentOutstanding: outstanding) == 0, "\(outstanding)")
        }
        #expect(RequestPipeline.topUp(depth: 256, outstanding: 240, torrentOutstanding: 240) == 16)
        // Depth 40: an eighth is 5.
        #expect(RequestPipeline.topUp(depth: 40, outstanding: 36, torrentOutstanding: 36) == 0)
        #expect(RequestPipeline.topUp(depth: 40, outstanding: 35, torrentOutstanding: 35) == 5)
        // A shallow pipeline (a slow or snubbed peer) takes each block as it frees.
        #expect(RequestPipeline.topUp(depth: 4, outstanding: 3, torrentOutstanding: 3) == 1)
        #expect(RequestPipeline.topUp(depth: 1, outstanding: 0, torrentOutstanding: 0) == 1)
    }

    @Test func anEmptyPipelineIsFilledWithinTheTorrentsBudget() {
        let budget = RequestPipeline.torrentBudget
        #expect(RequestPipeline.topUp(depth: 500, outstanding: 0, torrentOutstanding: 0) == 500)
        #expect(RequestPipeline.topUp(depth: 500, outstanding: 0, torrentOutstanding: budget - 3) == RequestPipeline.minimumDepth,
                "a peer with none in flight may always go up to the minimum")
        #expect(RequestPipeline.topUp(depth: 500, outstanding: 300, torrentOutstanding: budget) == 0)
    }

    /// A peer delivering a block at a time over many rounds: every request is sent in a batch
    /// of 16 and the pipeline never runs below depth minus 16.
    @Test func aSteadyStreamOfBlocksIsAnsweredInBatchesOf16() {
        var outstanding = 0
        var sends: [Int] = []
        for _ in 0..<10_000 {
            let send = RequestPipeline.topUp(depth: 256, outstanding: outstanding, torrentOutstanding: outstanding)
            if send > 0 {
                sends.append(send)
                outstanding += send
            }
            #expect(outstanding >= 256 - 16)
            outstanding -= 1  // a block arrives
        }
        #expect(sends.first == 256)
        #expect(sends.dropFirst().allSatisfy { $0 == 16 } && sends.count > 600, "\(sends.count) writes")
        #expect((239...255).contains(outstanding))
    }
}
