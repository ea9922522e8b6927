import ShoalCore
import ShoalEngine
import Testing
@testable import ShoalTUI

@Suite("TUI input: completion, mouse, quit")
struct InputTests {
    static let tree: [String: [PathCompletion.Entry]] = [
        ".": [.init(name: "ubuntu.torrent", isDirectory: false), .init(name: "ubuntu-server.torrent", isDirectory: false),
              .init(name: "downloads", isDirectory: true), .init(name: "notes.txt", isDirectory: false),
              .init(name: ".hidden.torrent", isDirectory: false)],
        "downloads/": [.init(name: "only.magnet", isDirectory: false)],
        "/home/u/": [.init(name: "films", isDirectory: true)],
    ]
    static let lister: PathCompletion.Lister = { tree[$0] }

    static let completions: [(String, String, [String])] = [
        ("ubu", "ubuntu", ["ubuntu-server.torrent", "ubuntu.torrent"]),
        ("ubuntu.", "ubuntu.torrent", []),
        ("dow", "downloads/", []),
        ("downloads/", "downloads/only.magnet", []),
        ("no", "no", []),
        (".h", ".hidden.torrent", []),
        ("~/f", "~/films/", []),
        ("missing/x", "missing/x", []),
    ]

    @Test("Tab completes like a shell", arguments: completions)
    func completion(typed: String, expected: String, choices: [String]) {
        let result = PathCompletion.complete(typed, home: "/home/u", list: Self.lister)
        #expect(result.text == expected)
        #expect(result.choices == choices)
    }

    @Test func tabInTheAddPromptCompletesAndListsChoices() {
        let snapshot = ScreenTests.session([])
        var state = UIState()
        state.listDirectory = Self.lister
        _ = state.handle(.character("a"), snapshot: snapshot, pageSize: 10)
        for c in "ubu" { _ = state.handle(.character(c), snapshot: snapshot, pageSize: 10) }
        _ = state.handle(.tab, snapshot: snapshot, pageSize: 10)
        #expect(state.prompt == .addPath("ubuntu"))
        let text = Screen().render(snapshot, state: state, width: 80, height: 24).text
        #expect(text.contains("ubuntu-server.torrent  ubuntu.torrent"))
        _ = state.handle(.character("."), snapshot: snapshot, pageSize: 10)
        _ = state.handle(.tab, snapshot: snapshot, pageSize: 10)
        #expect(state.message == nil)
        #expect(state.handle(.enter, snapshot: snapshot, pageSize: 10) == [.add(path: "ubuntu.torrent")])
    }

    @Test func quitAsksOnlyWhileTorrentsAreActive() {
        let idle = ScreenTests.session([ScreenTests.torrent("done", have: 40, activity: .seeding, peers: 0),
                                        ScreenTests.torrent("stopped", activity: .paused, seed: 2)])
        var state = UIState()
        #expect(state.handle(.character("q"), snapshot: idle, pageSize: 10) == [.quit])

        let busy = ScreenTests.session([ScreenTests.torrent("getting"), ScreenTests.torrent("sharing", have: 40, activity: .seeding, seed: 2)])
        #expect(state.handle(.character("q"), snapshot: busy, pageSize: 10) == [])
        #expect(state.prompt == .confirmQuit(active: 2))
        #expect(Screen().render(busy, state: state, width: 100, height: 20).text.contains("Quit? 2 torrents are active (y/n)"))
        #expect(state.handle(.character("n"), snapshot: busy, pageSize: 10) == [])
        #expect(state.prompt == nil)
        _ = state.handle(.character("q"), snapshot: busy, pageSize: 10)
        #expect(state.handle(.character("y"), snapshot: busy, pageSize: 10) == [.quit])
    }

    @Test func clicksSelectRowsOpenTorrentsAndSwitchTabs() {
        let snapshot = ScreenTests.session((0..<5).map { ScreenTests.torrent("t\($0)", seed: UInt8($0 + 1)) })
        var state = UIState()
        state.layout = ScreenLayout(width: 120, height: 30)
        state.observe(snapshot, now: .now)
        // Row 0 of the list is at y = 2 (title, then the header).
        _ = state.handle(.click(x: 5, y: 4), snapshot: snapshot, pageSize: 10)
        #expect(state.selectedID == snapshot.torrents[2].id && !state.inDetail)
        let rendered = Screen().render(snapshot, state: state, width: 120, height: 30)
        #expect(rendered.text.split(separator: "\n")[4].contains("t2"), "the clicked line shows the selected torrent")
        _ = state.handle(.click(x: 5, y: 4), snapshot: snapshot, pageSize: 10)
        #expect(state.inDetail)
        // Tabs: find "3 Trackers" on the tab bar and click its middle.
        let bar = String(Screen().render(snapshot, state: state, width: 120, height: 30).text.split(separator: "\n")[state.layout.tabBarY])
        let column = bar.distance(from: bar.startIndex, to: bar.range(of: "3 Trackers")!.lowerBound) + 3
        _ = state.handle(.click(x: column, y: state.layout.tabBarY), snapshot: snapshot, pageSize: 10)
        #expect(state.tab == .trackers)
        _ = state.handle(.character("4"), snapshot: snapshot, pageSize: 10)
        _ = state.handle(.click(x: 3, y: state.layout.detailTableFirstRow + 1), snapshot: snapshot, pageSize: 10)
        #expect(state.detailRow == 1)
        _ = state.handle(.click(x: 3, y: state.layout.detailTableFirstRow + 7), snapshot: snapshot, pageSize: 10)
        #expect(state.detailRow == 1, "a click below the last file changes nothing")
        _ = state.handle(.scrollUp, snapshot: snapshot, pageSize: 10)
        #expect(state.detailRow == 0)
    }
}
