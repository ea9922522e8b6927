import Foundation
import ShoalCore
@testable import ShoalEngine
import Testing
@testable import ShoalTUI

/// The faults a new user met in the interface, each rendered as text (or checked in the theme
/// the terminal would be given).
@Suite("Interface faults")
struct InterfaceFaultTests {
    static func render(_ snapshot: SessionSnapshot, keys: [Key] = [], width: Int = 120, height: Int = 30, glyphs: Glyphs = .unicode,
                       now: ContinuousClock.Instant = .now, history: (inout UIState) -> Void = { _ in }) -> String {
        var state = UIState()
        state.layout = ScreenLayout(width: width, height: height)
        history(&state)
        state.observe(snapshot, now: now)
        for key in keys { _ = state.handle(key, snapshot: snapshot, pageSize: Screen.bodyHeight(height)) }
        return Screen(glyphs: glyphs).render(snapshot, state: state, width: width, height: height, now: now).text
    }

    /// `--theme mono` and NO_COLOR: no slot has a colour, so nothing draws `ESC[4Xm` (the file
    /// inherited the default's cyan background for the selected row and the active tab).
    @Test func monoHasNoColourAnywhere() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Themes/mono.toml")
        let fromFile = try Theme.parse(try String(contentsOf: file, encoding: .utf8), name: "mono.toml")
        for theme in [fromFile, Theme.monochrome] {
            for slot in StyleSlot.allCases {
                let style = theme.style(slot)
                #expect(style.foreground == -1 && style.background == -1, "\(theme.name): \(slot) has colour \(style)")
            }
            #expect(theme.style(.selected).reverse && theme.style(.statusBar).reverse, "selection still shows without colour")
        }
        let partial = try Theme.parse("[slots]\nselected = { fg = \"default\", reverse = true }", name: "t.toml")
        #expect(partial.style(.selected).background == -1, "a slot written is the whole slot")
        #expect(partial.style(.statusBar) == Theme.builtIn.style(.statusBar), "a slot not written is the default's")
    }

    /// Without colour the piece map's "1 peer" and "nobody" differ from "2+ peers" by glyph.
    @Test(arguments: [Glyphs.unicode, Glyphs.ascii])
    func missingPiecesDifferWithoutColour(glyphs: Glyphs) {
        var torrent = ScreenTests.torrent("rare.iso", pieces: 30, have: 0, peers: 0)
        torrent.piecesInProgress = []
        torrent.availability = (0..<30).map { $0 < 10 ? 0 : $0 < 20 ? 1 : 2 }
        let text = Self.render(ScreenTests.session([torrent]), keys: [.enter], width: 100, height: 14, glyphs: glyphs)
        let map = text.split(separator: "\n")[4]
        let cells = Array(map.dropFirst().prefix(30)).map(String.init)
        #expect(Set(cells[0..<10]) == [glyphs.missingNobody] && Set(cells[10..<20]) == [glyphs.missingOnePeer]
                && Set(cells[20..<30]) == [glyphs.missing], "\(map)")
        #expect(Set([glyphs.missingNobody, glyphs.missingOnePeer, glyphs.missing]).count == 3)
        #expect(text.contains("\(glyphs.missingOnePeer) 1 peer") && text.contains("\(glyphs.missingNobody) nobody"), "the legend")
    }

    /// `LC_ALL=C`: no limit reads "(limit none)", and what reaches the terminal is ASCII only.
    @Test func cLocaleScreenIsASCII() {
        var state = UIState()
        let snapshot = ScreenTests.session([ScreenTests.torrent("naïve — ünïcode…name.iso")])
        state.observe(snapshot, now: .now)
        let buffer = Screen(glyphs: .ascii).render(snapshot, state: state, width: 120, height: 20).asciiOnly()
        #expect(buffer.text.contains("(limit none)"), "\(buffer.text)")
        #expect(buffer.text.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(buffer.text.contains("na?ve - ?n?code~name.iso"))
        var help = UIState()
        _ = help.handle(.character("?"), snapshot: snapshot, pageSize: 10)
        let helpText = Screen(glyphs: .ascii).render(snapshot, state: help, width: 120, height: 40).asciiOnly().text
        #expect(helpText.contains("^ k wheel ^") && helpText.unicodeScalars.allSatisfy { $0.isASCII })
    }

    @Test func filterWithNoMatchSaysSo() {
        let text = Self.render(ScreenTests.session([ScreenTests.torrent("ubuntu.iso")]), keys: [.character("/"), .character("z"), .enter])
        #expect(text.contains("Nothing matches \"z\""), "\(text)")
        #expect(!text.contains("No torrents"))
        #expect(Self.render(ScreenTests.session([])).contains("No torrents. Press a to add a .torrent file or a magnet link"))
    }

    /// The graph has a scale and a time axis, the newest sample at the right edge, and says
    /// plainly that nothing was uploaded (it showed "peak 1 B/s now -").
    @Test func rateGraphHasAxesAndSaysWhenIdle() {
        let start = ContinuousClock.now
        var torrent = ScreenTests.torrent("graph.iso")
        var samples: [SessionSnapshot] = []
        for second in 0..<200 {
            torrent.downloadRate = Double(second % 50) * 20_000 + 1000
            torrent.uploadRate = 0
            samples.append(ScreenTests.session([torrent]))
        }
        let text = Self.render(samples.last!, keys: [.enter, .character("5")], width: 150, height: 30, now: start + .seconds(200)) { state in
            for (second, sample) in samples.enumerated() { state.history.record(sample, now: start + .seconds(second)) }
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let title = lines.firstIndex { $0.contains("↓ download") && $0.contains("peak 958.01 KiB/s") }
        #expect(title != nil, "\(text)")
        guard let title else { return }
        #expect(lines[title + 1].hasPrefix("958.01 KiB/s │"), "the scale's top: \(lines[title + 1])")
        let axis = lines.first { $0.trimmingCharacters(in: .whitespaces).hasSuffix("now") } ?? ""
        #expect(axis.contains("-1m") && axis.contains("-2m"), "\(text)")
        #expect(text.contains("↑ upload  nothing in the last 3m21s"), "\(text)")
        #expect(!text.contains("1 B/s"))
    }

    /// Trackers: the URL gets the room the Status column does not need; a due announce is
    /// "now", never "0s ago".
    @Test func trackersShowWholeURLsAndNoPastNext() {
        let now = ContinuousClock.now
        var torrent = ScreenTests.torrent("tracked.iso")
        torrent.trackers = [
            TrackerSnapshot(url: "http://127.0.0.1:16969/announce?key=0123456789", tier: 0, status: "working", error: nil,
                            lastAnnounce: now - .seconds(30), nextAnnounce: now - .milliseconds(200), seeders: 1, leechers: 2,
                            peersReturned: 3),
            TrackerSnapshot(url: "udp://127.0.0.1:16970", tier: 1, status: "working", error: nil,
                            lastAnnounce: now, nextAnnounce: now + .seconds(95), seeders: nil, leechers: nil, peersReturned: 0),
        ]
        let text = Self.render(ScreenTests.session([torrent]), keys: [.enter, .character("3")], width: 120, height: 20, now: now)
        #expect(text.contains("http://127.0.0.1:16969/announce?key=0123456789"), "\(text)")
        #expect(!text.contains(" 0s ago") && !text.contains("in 0s"))
        #expect(text.contains("30s ago") && text.contains("just now") && text.contains("in 1m 35s"))
        let first = text.split(separator: "\n").first { $0.contains("key=") } ?? ""
        #expect(first.contains("30s ago") && first.contains(" now "), "a due announce reads now: \(first)")
    }

    /// A torrent with a skipped file is complete in what was wanted: the list marks the
    /// percentage and says what it means; the details give both sizes.
    @Test func partialSelectionIsMarked() {
        var torrent = ScreenTests.torrent("album", pieces: 40, have: 30)
        torrent.wantedSize = torrent.haveSize
        let list = Self.render(ScreenTests.session([torrent]))
        #expect(list.contains("100.0%*") && list.contains("* progress of the wanted files: some are skipped"), "\(list)")
        let whole = ScreenTests.torrent("whole", pieces: 40, have: 40)
        #expect(!Self.render(ScreenTests.session([whole])).contains("*"))
        let detail = Self.render(ScreenTests.session([torrent]), keys: [.enter])
        #expect(detail.contains("480.00 KiB of 480.00 KiB wanted of 640.00 KiB (100.0%)"), "\(detail)")
    }

    /// The footer offers the file keys on the Files tab only, and the add prompt says it takes
    /// magnet links.
    @Test func footerFitsTheTabAndPromptNamesMagnets() {
        let snapshot = ScreenTests.session([ScreenTests.torrent("a.iso")])
        func footer(_ keys: [Key]) -> String { String(Self.render(snapshot, keys: keys).split(separator: "\n").last ?? "") }
        #expect(footer([.enter, .character("4")]).contains("+/- priority"))
        for tab in ["1", "2", "3", "5"] {
            #expect(!footer([.enter, .character(Character(tab))]).contains("priority"), "tab \(tab)")
        }
        #expect(!footer([]).contains("priority"))
        #expect(footer([.character("a")]).contains("Add a .torrent file or a magnet link:"))
    }
}
