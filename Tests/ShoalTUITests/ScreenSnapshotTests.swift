import Foundation
import ShoalCore
import ShoalEngine
import Testing
@testable import ShoalTUI

/// Fixed snapshots rendered into the cell buffer and compared, character for character, with
/// the expected screens in `Screens/`. After an intended change to the interface, run
/// `SHOAL_UPDATE_SCREENS=1 swift test --filter ScreenSnapshotTests`, read the diff of
/// `Tests/ShoalTUITests/Screens`, and commit it.
@Suite("TUI screens against expected text")
struct ScreenSnapshotTests {
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let width: Int
        let height: Int
        let torrents: @Sendable () -> [TorrentSnapshot]
        let keys: [Key]
        var description: String { name }
    }

    static let two: @Sendable () -> [TorrentSnapshot] = {
        [ScreenTests.torrent("ubuntu-24.04-desktop-amd64.iso"),
         ScreenTests.torrent("Big Buck Bunny (1080p).mkv", have: 40, activity: .seeding, peers: 2, seed: 2)]
    }

    static let cases: [Case] = [
        Case(name: "list-tiny-40x10", width: 40, height: 10, torrents: two, keys: []),
        Case(name: "list-narrow-60x20", width: 60, height: 20, torrents: two, keys: []),
        Case(name: "list-wide-200x30", width: 200, height: 30, torrents: two, keys: []),
        Case(name: "list-3000-torrents-120x30", width: 120, height: 30,
             torrents: { (0..<3000).map { ScreenTests.torrent(String(format: "torrent-%04d", $0), seed: UInt8($0 % 250 + 1)) } },
             keys: [.pageDown, .pageDown, .down]),
        Case(name: "too-small-39x10", width: 39, height: 10, torrents: two, keys: []),
        Case(name: "help-100x40", width: 100, height: 40, torrents: two, keys: [.character("?")]),
        Case(name: "peers-0-120x24", width: 120, height: 24, torrents: { [ScreenTests.torrent("lonely.iso", peers: 0)] },
             keys: [.enter, .character("2")]),
        Case(name: "peers-200-140x40", width: 140, height: 40, torrents: { [ScreenTests.torrent("popular.iso", peers: 200)] },
             keys: [.enter, .character("2")]),
        Case(name: "pieces-1-100x24", width: 100, height: 24, torrents: { [ScreenTests.torrent("one-piece.bin", pieces: 1, have: 0)] },
             keys: [.enter]),
        Case(name: "pieces-100000-120x40", width: 120, height: 40,
             torrents: { [ScreenTests.torrent("huge.img", pieces: 100_000, have: 37_000)] }, keys: [.enter]),
        Case(name: "trackers-160x20", width: 160, height: 20, torrents: two, keys: [.enter, .character("3")]),
        Case(name: "files-100x20", width: 100, height: 20, torrents: two, keys: [.enter, .character("4"), .down]),
    ]

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Screens")

    @Test(arguments: cases)
    func matchesTheExpectedScreen(_ testCase: Case) throws {
        let snapshot = ScreenTests.session(testCase.torrents())
        var state = UIState()
        state.observe(snapshot, now: .now)
        for key in testCase.keys { _ = state.handle(key, snapshot: snapshot, pageSize: Screen.bodyHeight(testCase.height)) }
        let rendered = Screen(freeDiskBytes: 12 << 30).render(snapshot, state: state, width: testCase.width, height: testCase.height)
        let text = rendered.text
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == testCase.height || (lines.count == testCase.height + 1 && lines.last == ""))
        let file = Self.directory.appendingPathComponent(testCase.name + ".txt")
        if ProcessInfo.processInfo.environment["SHOAL_UPDATE_SCREENS"] == "1" {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let expected = try #require(try? String(contentsOf: file, encoding: .utf8),
                                    "no expected screen \(file.lastPathComponent): run with SHOAL_UPDATE_SCREENS=1 to create it")
        let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
        for (number, (got, want)) in zip(lines, expectedLines).enumerated() where got != want {
            Issue.record("line \(number + 1) differs\n got: \(got)\nwant: \(want)")
            break
        }
        #expect(lines.count == expectedLines.count)
    }
}
