import ShoalCore
import Testing

/// What a web seed's answer to a ranged GET means, from status, headers and body.
@Suite("Web seed answers")
struct WebSeedAnswerTests {
    let part = WebSeedLayout.Part(url: "http://h:8080/t/a", fileOffset: 1_000, length: 4, torrentOffset: 51_000, fileLength: 2_000)
    let url = "http://h:8080/t/a"

    func judge(_ status: Int, _ headers: [(String, String)] = [], _ body: [UInt8] = []) -> WebSeedAnswer {
        WebSeedAnswer.judge(status: status, headers: headers.map { (name: $0.0, value: $0.1) }, body: body, part: part, url: url)
    }

    @Test func aPartialAnswerForTheRangeAskedIsTheData() {
        #expect(judge(206, [("Content-Range", "bytes 1000-1003/2000")], [1, 2, 3, 4]) == .data([1, 2, 3, 4]))
        #expect(judge(206, [], [1, 2, 3, 4]) == .data([1, 2, 3, 4]), "no Content-Range: the length decides")
    }

    @Test func aPartialAnswerForAnotherRangeOrShortIsAFailure() {
        guard case .retry(let reason, nil) = judge(206, [("content-range", "bytes 0-3/2000")], [1, 2, 3, 4]) else {
            Issue.record("another range taken")
            return
        }
        #expect(reason.contains("bytes 0-3/2000"))
        guard case .retry(let short, nil) = judge(206, [], [1, 2]) else { Issue.record("a short body taken"); return }
        #expect(short == "the server sent 2 bytes of the 4 asked for")
    }

    @Test func aWholeFileIsCutToThePartAndAnythingElseDropsTheServer() {
        var file = [UInt8](repeating: 0, count: 2_000)
        file.replaceSubrange(1_000..<1_004, with: [9, 8, 7, 6])
        #expect(judge(200, [], file) == .data([9, 8, 7, 6]))
        guard case .drop = judge(200, [], [1, 2, 3, 4]) else { Issue.record("a 200 with the wrong length taken"); return }
    }

    @Test func redirectsAreMadeAbsolute() {
        #expect(judge(302, [("Location", "/mirror/t/a")]) == .redirect("http://h:8080/mirror/t/a"))
        #expect(judge(301, [("location", "https://other/t/a")]) == .redirect("https://other/t/a"))
        guard case .retry = judge(307) else { Issue.record("a redirect without a Location followed"); return }
        guard case .retry = judge(302, [("Location", "relative/path")]) else { Issue.record("a relative Location followed"); return }
    }

    @Test func busyServersNameTheirWaitAndOthersFailOrDrop() {
        #expect(judge(503, [("Retry-After", " 120 ")]) == .retry("HTTP 503", retryAfter: .seconds(120)))
        #expect(judge(429) == .retry("HTTP 429", retryAfter: nil))
        #expect(judge(404) == .retry("HTTP 404", retryAfter: nil))
        guard case .drop = judge(416) else { Issue.record("a file too short kept"); return }
    }
}
