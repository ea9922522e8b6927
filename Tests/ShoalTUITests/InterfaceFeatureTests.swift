import Foundation
import ShoalCore
@testable import ShoalEngine
import Testing
@testable import ShoalTUI
import ShoalTestSupport

/// What an rTorrent or tremc user reaches for, as keys in and commands and screens out.
@Suite("Interface features")
struct InterfaceFeatureTests {
    static func labelled(_ name: String, _ labels: [String], activity: TorrentActivity = .downloading, seed: UInt8) -> TorrentSnapshot {
        var torrent = ScreenTests.torrent(name, activity: activity, seed: seed)
        torrent.details.labels = labels
        return torrent
    }

    static func type(_ text: String, into state: inout UIState, snapshot: SessionSnapshot) -> [UICommand] {
        var commands: [UICommand] = []
        for character in text { commands += state.handle(.character(character), snapshot: snapshot, pageSize: 10) }
        return commands + state.handle(.enter, snapshot: snapshot, pageSize: 10)
    }

    @Test func detailsTabShowsWhatTheTorrentIs() {
        var torrent = ScreenTests.torrent("album")
        torrent.details = TorrentDetails()
        torrent.details.pieceLength = 16_384
        torrent.details.comment = "ripped with care"
        torrent.details.createdBy = "mktorrent 1.1"
        torrent.details.creationDate = 1_700_000_000
        torrent.details.added = Date(timeIntervalSince1970: 1_760_000_000)
        torrent.details.magnetURI = "magnet:?xt=urn:btih:0101010101010101010101010101010101010101&dn=album"
        torrent.details.labels = ["music", "flac"]
        torrent.details.uploadLimit = 100 << 10
        torrent.details.seedRatio = .own(1.5)
        torrent.details.location = "/srv/music"
        torrent.error = "disk full"
        let text = InterfaceFaultTests.render(ScreenTests.session([torrent]), keys: [.enter, .character("6")], width: 120, height: 30)
        for expected in ["Info-hash        0101010101010101010101010101010101010101", "Magnet           magnet:?xt=urn:btih:0101",
                         "Location         /srv/music", "640.00 KiB in 2 files, 40 pieces of 16.00 KiB", "Comment          ripped with care",
                         "by mktorrent 1.1", TorrentDetailsView.date(Date(timeIntervalSince1970: 1_700_000_000)),
                         "Added            " + TorrentDetailsView.date(Date(timeIntervalSince1970: 1_760_000_000)),
                         "Completed        -", "ratio 1.50", "↑ 100.00 KiB/s", "Labels           music, flac", "Error            disk full",
                         "Private          no"] {
            #expect(text.contains(expected), "\(expected)\n\(text)")
        }
    }

    @Test func perTorrentLimitsAltSpeedMoveAndLabels() {
        let snapshot = ScreenTests.session([Self.labelled("a.iso", ["old"], seed: 1)])
        let id = snapshot.torrents[0].id
        var state = UIState()
        state.observe(snapshot, now: .now)
        _ = state.handle(.character("U"), snapshot: snapshot, pageSize: 10)
        #expect(Screen().render(snapshot, state: state, width: 120, height: 20).text.contains("This torrent's upload limit, KiB/s"))
        #expect(Self.type("250", into: &state, snapshot: snapshot) == [.setTorrentLimits(id, uploadKiB: 250, downloadKiB: nil)])
        _ = state.handle(.character("D"), snapshot: snapshot, pageSize: 10)
        #expect(Self.type("0", into: &state, snapshot: snapshot) == [.setTorrentLimits(id, uploadKiB: nil, downloadKiB: 0)])
        #expect(state.handle(.character("t"), snapshot: snapshot, pageSize: 10) == [.setAltSpeed(true)])
        var turtle = snapshot
        turtle.altSpeedEnabled = true
        #expect(state.handle(.character("t"), snapshot: turtle, pageSize: 10) == [.setAltSpeed(false)])
        #expect(Screen().render(turtle, state: state, width: 140, height: 20).text.contains("(turtle limit"))

        _ = state.handle(.character("m"), snapshot: snapshot, pageSize: 10)
        #expect(state.prompt == .move([id], "/tmp/x/"), "the prompt starts at the torrent's place")
        for _ in 0..<2 { _ = state.handle(.backspace, snapshot: snapshot, pageSize: 10) }
        #expect(Self.type("elsewhere", into: &state, snapshot: snapshot) == [.move(id, directory: "/tmp/elsewhere")])

        _ = state.handle(.character("b"), snapshot: snapshot, pageSize: 10)
        #expect(state.prompt == .labels([id], "old"))
        for _ in 0..<3 { _ = state.handle(.backspace, snapshot: snapshot, pageSize: 10) }
        #expect(Self.type(" music ,, flac ", into: &state, snapshot: snapshot) == [.setLabels(id, ["music", "flac"])])
        _ = state.handle(.character("m"), snapshot: snapshot, pageSize: 10)
        #expect(state.handle(.escape, snapshot: snapshot, pageSize: 10).isEmpty && state.prompt == nil, "Esc moves nothing")
    }

    /// A move under way shows in the list's state column and the Details tab, locally and
    /// attached (the daemon sends it in its `shoal` field).
    @Test func moveProgressShows() {
        var torrent = ScreenTests.torrent("a.iso", activity: .paused)
        torrent.move = MoveSnapshot(destination: "/srv/new", fraction: 0.45)
        let snapshot = ScreenTests.session([torrent])
        var state = UIState()
        state.observe(snapshot, now: .now)
        let list = Screen().render(snapshot, state: state, width: 120, height: 20).text
        #expect(list.split(separator: "\n").contains { $0.contains("a.iso") && $0.contains("moving 45.0%") }, "\(list)")
        for key: Key in [.enter, .character("6")] { _ = state.handle(key, snapshot: snapshot, pageSize: 10) }
        let details = Screen().render(snapshot, state: state, width: 120, height: 30).text
        #expect(details.contains("/tmp/x   moving to /srv/new: 45.0%"), "\(details)")
        let row: JSONValue = ["hashString": .string(torrent.id.hex), "shoal": ShoalExtension.object(torrent)]
        #expect(RemoteSnapshot.torrent(row, now: Date(), clockNow: .now)?.move == torrent.move)
        torrent.move = nil
        let done: JSONValue = ["hashString": .string(torrent.id.hex), "shoal": ShoalExtension.object(torrent)]
        #expect(RemoteSnapshot.torrent(done, now: Date(), clockNow: .now)?.move == nil)
    }

    /// The move prompt completes directories only.
    @Test func moveCompletesDirectories() {
        let snapshot = ScreenTests.session([ScreenTests.torrent("a.iso")])
        var state = UIState()
        state.listDirectory = { _ in [.init(name: "music", isDirectory: true), .init(name: "music.torrent", isDirectory: false)] }
        state.observe(snapshot, now: .now)
        _ = state.handle(.character("m"), snapshot: snapshot, pageSize: 10)
        for _ in 0..<"/tmp/x/".count { _ = state.handle(.backspace, snapshot: snapshot, pageSize: 10) }
        for character in "/srv/mu" { _ = state.handle(.character(character), snapshot: snapshot, pageSize: 10) }
        _ = state.handle(.tab, snapshot: snapshot, pageSize: 10)
        #expect(state.prompt == .move([snapshot.torrents[0].id], "/srv/music/"))
    }

    @Test func viewsByStateAndLabelWithCounts() {
        let snapshot = ScreenTests.session([
            Self.labelled("one.iso", ["linux"], seed: 1), Self.labelled("two.iso", [], activity: .seeding, seed: 2),
            Self.labelled("three.iso", ["linux", "arm"], activity: .paused, seed: 3),
        ])
        var state = UIState()
        state.observe(snapshot, now: .now)
        #expect(TorrentView.available(snapshot) == [.all, .downloading, .seeding, .queued, .paused, .checking, .error, .label("arm"),
                                                     .label("linux")])
        var seen: [TorrentView: [String]] = [:]
        for _ in 0..<9 {
            _ = state.handle(.character("f"), snapshot: snapshot, pageSize: 10)
            seen[state.view] = state.visible(snapshot).map(\.name)
        }
        #expect(state.view == .all, "f goes round")
        #expect(seen[.seeding] == ["two.iso"] && seen[.paused] == ["three.iso"] && seen[.label("linux")] == ["one.iso", "three.iso"])
        _ = state.handle(.character("F"), snapshot: snapshot, pageSize: 10)
        #expect(state.view == .label("linux"))
        let text = Screen().render(snapshot, state: state, width: 140, height: 20).text
        #expect(text.contains("view label linux: 2 of 3"), "\(text)")
        state.view = .error
        #expect(Screen().render(snapshot, state: state, width: 140, height: 20).text.contains("No torrents in the view error"))
    }

    @Test func sortByAnyColumnReversedWithAMarker() {
        var small = ScreenTests.torrent("b-small", pieces: 10, seed: 1)
        small.eta = 10
        var big = ScreenTests.torrent("a-big", pieces: 90, seed: 2)
        big.eta = 500
        let snapshot = ScreenTests.session([small, big])
        var state = UIState()
        state.observe(snapshot, now: .now)
        var orders: [ShoalTUI.SortOrder] = []
        for _ in ShoalTUI.SortOrder.allCases {
            _ = state.handle(.character("s"), snapshot: snapshot, pageSize: 10)
            orders.append(state.sort)
        }
        #expect(Set(orders) == Set(ShoalTUI.SortOrder.allCases), "s visits every column")
        state.sort = .size
        #expect(state.visible(snapshot).map(\.name) == ["a-big", "b-small"])
        let header = Screen().render(snapshot, state: state, width: 140, height: 20).text.split(separator: "\n")[1]
        #expect(header.contains("Size↓"), "\(header)")
        _ = state.handle(.character("O"), snapshot: snapshot, pageSize: 10)
        #expect(state.visible(snapshot).map(\.name) == ["b-small", "a-big"])
        #expect(Screen().render(snapshot, state: state, width: 140, height: 20).text.split(separator: "\n")[1].contains("Size↑"))
        state.sort = .eta
        state.sortReversed = false
        #expect(state.visible(snapshot).map(\.name) == ["b-small", "a-big"], "soonest first")
    }

    @Test func logViewShowsScrollsAndCloses() {
        let snapshot = ScreenTests.session([ScreenTests.torrent("a.iso")])
        var state = UIState()
        state.layout = ScreenLayout(width: 120, height: 20)
        state.observe(snapshot, now: .now)
        state.receiveLog((0..<100).map { "2026-12-02T13:00:\(String(format: "%02d", $0 % 60)).000Z info line \($0) peer=127.0.0.1:\($0)" })
        _ = state.handle(.character("L"), snapshot: snapshot, pageSize: 10)
        var text = Screen().render(snapshot, state: state, width: 120, height: 20).text
        #expect(text.contains("Log: lines 85-100 of 100") && text.contains("13:00:39 info line 99 peer=127.0.0.1:99"), "\(text)")
        #expect(!text.contains("2026-12-02"), "the date is left out")
        _ = state.handle(.pageUp, snapshot: snapshot, pageSize: 10)
        text = Screen().render(snapshot, state: state, width: 120, height: 20).text
        #expect(text.contains("line 83 ") && !text.contains("line 99 "), "\(text)")
        state.receiveLog(["2026-12-02T13:01:00.000Z warning new"])
        #expect(Screen().render(snapshot, state: state, width: 120, height: 20).text.contains("line 83 "), "scrolled back, new lines do not move it")
        _ = state.handle(.escape, snapshot: snapshot, pageSize: 10)
        #expect(!state.showLog)
        #expect(LogView.display("2026-12-02T13:01:00.000Z error disk full").1 == .error)
        state.log = []
        _ = state.handle(.character("L"), snapshot: snapshot, pageSize: 10)
        #expect(Screen().render(snapshot, state: state, width: 120, height: 20).text.contains("Log: nothing yet"))
    }

    /// In the Peers tab k closes the selected peer's connection and K bans it; elsewhere k still
    /// moves up.
    @Test func peersTabKicksAndBans() {
        let snapshot = ScreenTests.session([ScreenTests.torrent("a.iso", peers: 3), ScreenTests.torrent("b.iso", seed: 2)])
        let id = snapshot.torrents[0].id
        var state = UIState()
        state.observe(snapshot, now: .now)
        _ = state.handle(.down, snapshot: snapshot, pageSize: 10)
        #expect(state.handle(.character("k"), snapshot: snapshot, pageSize: 10).isEmpty && state.selectedID == id, "k moves up in the list")
        _ = state.handle(.enter, snapshot: snapshot, pageSize: 10)
        _ = state.handle(.character("2"), snapshot: snapshot, pageSize: 10)
        #expect(state.handle(.character("k"), snapshot: snapshot, pageSize: 10) == [.closePeer(id, address: "127.0.0.1:7000", ban: false)])
        _ = state.handle(.down, snapshot: snapshot, pageSize: 10)
        #expect(state.handle(.character("K"), snapshot: snapshot, pageSize: 10) == [.closePeer(id, address: "127.0.0.1:7001", ban: true)])
        #expect(state.message == "banning 127.0.0.1:7001")
        state.message = nil
        let text = Screen().render(snapshot, state: state, width: 140, height: 24).text
        #expect(text.contains("k kick") && text.contains("K ban"), "\(text)")
        #expect(state.handle(.character("n"), snapshot: snapshot, pageSize: 10) == [.reannounce(id)], "n announces, as in tremc")
    }

    /// Trackers tab: i adds a tier, e edits the selected URL, x removes it; n announces.
    @Test func trackersTabAddsEditsAndRemoves() {
        var torrent = ScreenTests.torrent("t.iso")
        torrent.trackers = [
            TrackerSnapshot(url: "http://a/announce", tier: 0, status: "working", error: nil, lastAnnounce: nil, nextAnnounce: nil,
                            seeders: nil, leechers: nil, peersReturned: 0),
            TrackerSnapshot(url: "http://b/announce", tier: 0, status: "working", error: nil, lastAnnounce: nil, nextAnnounce: nil,
                            seeders: nil, leechers: nil, peersReturned: 0),
        ]
        let snapshot = ScreenTests.session([torrent])
        let id = torrent.id
        var state = UIState()
        state.observe(snapshot, now: .now)
        _ = state.handle(.enter, snapshot: snapshot, pageSize: 10)
        _ = state.handle(.character("3"), snapshot: snapshot, pageSize: 10)
        _ = state.handle(.character("i"), snapshot: snapshot, pageSize: 10)
        #expect(Screen().render(snapshot, state: state, width: 120, height: 20).text.contains("Add a tracker (a new tier):"))
        #expect(Self.type("udp://c:80", into: &state, snapshot: snapshot)
                == [.setTrackers(id, [["http://a/announce", "http://b/announce"], ["udp://c:80"]])])
        _ = state.handle(.down, snapshot: snapshot, pageSize: 10)
        _ = state.handle(.character("e"), snapshot: snapshot, pageSize: 10)
        #expect(state.prompt == .tracker(id, index: 1, "http://b/announce"))
        for _ in 0..<"announce".count { _ = state.handle(.backspace, snapshot: snapshot, pageSize: 10) }
        #expect(Self.type("scrape", into: &state, snapshot: snapshot) == [.setTrackers(id, [["http://a/announce", "http://b/scrape"]])])
        #expect(state.handle(.character("x"), snapshot: snapshot, pageSize: 10) == [.setTrackers(id, [["http://a/announce"]])])
        state.message = nil
        let text = Screen().render(snapshot, state: state, width: 120, height: 20).text
        #expect(text.contains("i add") && text.contains("x remove"), "\(text)")
    }

    @Test func sequentialToggleAndShown() {
        var torrent = ScreenTests.torrent("film.mkv")
        let snapshot = ScreenTests.session([torrent])
        var state = UIState()
        state.observe(snapshot, now: .now)
        #expect(state.handle(.character("z"), snapshot: snapshot, pageSize: 10) == [.setSequential(torrent.id, true)])
        torrent.details.sequential = true
        let ordered = ScreenTests.session([torrent])
        #expect(state.handle(.character("z"), snapshot: ordered, pageSize: 10) == [.setSequential(torrent.id, false)])
        #expect(TmuxSession.line(Screen().render(ordered, state: state, width: 140, height: 20).text, "film.mkv").contains("sequential"))
    }

    /// Space marks (and moves on), * marks every shown torrent or none; then the keys act on all
    /// the marked ones: pause, labels, limits, removal with one question.
    @Test func markedTorrentsTakeTheKeysTogether() {
        let torrents = (1...4).map { ScreenTests.torrent("t\($0).iso", seed: UInt8($0)) }
        let snapshot = ScreenTests.session(torrents)
        let ids = torrents.map(\.id)
        var state = UIState()
        state.observe(snapshot, now: .now)
        _ = state.handle(.character(" "), snapshot: snapshot, pageSize: 10)
        #expect(state.marked == [ids[0]] && state.selectedID == ids[1], "Space marks and moves down")
        _ = state.handle(.down, snapshot: snapshot, pageSize: 10)
        _ = state.handle(.character(" "), snapshot: snapshot, pageSize: 10)
        #expect(state.marked == [ids[0], ids[2]])
        #expect(state.handle(.character("p"), snapshot: snapshot, pageSize: 10) == [.pause(ids[0]), .pause(ids[2])])
        _ = state.handle(.character("b"), snapshot: snapshot, pageSize: 10)
        #expect(InterfaceFeatureTests.type("x", into: &state, snapshot: snapshot) == [.setLabels(ids[0], ["x"]), .setLabels(ids[2], ["x"])])
        _ = state.handle(.character("U"), snapshot: snapshot, pageSize: 10)
        #expect(Screen().render(snapshot, state: state, width: 140, height: 20).text.contains("2 torrents' upload limit"))
        #expect(InterfaceFeatureTests.type("5", into: &state, snapshot: snapshot)
                == [.setTorrentLimits(ids[0], uploadKiB: 5, downloadKiB: nil), .setTorrentLimits(ids[2], uploadKiB: 5, downloadKiB: nil)])
        let text = Screen().render(snapshot, state: state, width: 140, height: 20).text
        #expect(text.contains("●t1.iso") && text.contains("●t3.iso") && !text.contains("●t2.iso") && text.contains("2 marked"), "\(text)")
        _ = state.handle(.character("r"), snapshot: snapshot, pageSize: 10)
        #expect(Screen().render(snapshot, state: state, width: 140, height: 20).text.contains("Remove 2 torrents? (y/n)"))
        #expect(state.handle(.character("y"), snapshot: snapshot, pageSize: 10) == [.remove(ids[0], deleteData: false), .remove(ids[2], deleteData: false)])
        #expect(state.marked.isEmpty)
        _ = state.handle(.character("*"), snapshot: snapshot, pageSize: 10)
        #expect(state.marked == Set(ids))
        _ = state.handle(.character("*"), snapshot: snapshot, pageSize: 10)
        #expect(state.marked.isEmpty, "* again marks none")
        // Gone from the session: no longer marked.
        state.marked = [ids[3]]
        state.observe(ScreenTests.session(Array(torrents.prefix(3))), now: .now)
        #expect(state.marked.isEmpty)
    }

    @Test func queueKeysMoveTheSelectedTorrent() {
        var queued = ScreenTests.torrent("waiting.iso", seed: 2)
        queued.activity = .queued
        let snapshot = ScreenTests.session([ScreenTests.torrent("first.iso"), queued])
        var state = UIState()
        state.observe(snapshot, now: .now)
        _ = state.handle(.down, snapshot: snapshot, pageSize: 10)
        #expect(state.handle(.character("K"), snapshot: snapshot, pageSize: 10) == [.moveInQueue(queued.id, .up)])
        #expect(state.handle(.character("["), snapshot: snapshot, pageSize: 10) == [.moveInQueue(queued.id, .top)])
        #expect(state.handle(.character("J"), snapshot: snapshot, pageSize: 10) == [.moveInQueue(queued.id, .down)])
        #expect(state.handle(.character("]"), snapshot: snapshot, pageSize: 10) == [.moveInQueue(queued.id, .bottom)])
        #expect(TmuxSession.line(Screen().render(snapshot, state: state, width: 140, height: 20).text, "waiting.iso").contains("queued"))
        state.view = .queued
        #expect(state.visible(snapshot).map(\.name) == ["waiting.iso"])
    }

    @Test func themeKeyStepsThroughThemes() {
        let snapshot = ScreenTests.session([])
        var state = UIState()
        state.themes = ["default", "mono", "nord"]
        state.theme = "mono"
        _ = state.handle(.character("T"), snapshot: snapshot, pageSize: 10)
        #expect(state.theme == "nord" && state.message?.contains("theme nord") == true)
        _ = state.handle(.character("T"), snapshot: snapshot, pageSize: 10)
        #expect(state.theme == "default", "round again")
        #expect(Theme.availableNames().prefix(2) == ["default", "mono"])
    }

    @Test func preferencesPersistSortAndView() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-prefs-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var state = UIState()
        state.sort = .ratio
        state.sortReversed = true
        state.view = .label("linux")
        #expect(state.preferences.save(path) == nil)
        var next = UIState()
        next.preferences = InterfacePreferences.load(path)
        #expect(next.sort == .ratio && next.sortReversed && next.view == .label("linux"))
        try Data("not json".utf8).write(to: URL(fileURLWithPath: path))
        #expect(InterfacePreferences.load(path) == InterfacePreferences(), "a broken file gives the defaults")
        #expect(InterfacePreferences().save("/nonexistent/dir/prefs.json")?.contains("cannot save") == true)
    }
}
