import Foundation
import ShoalCore
@testable import ShoalEngine
import Testing
@testable import ShoalTUI

/// The interface rendered to text, without a terminal.
@Suite("TUI screens")
struct ScreenTests {
    static func torrent(_ name: String, pieces: Int = 40, have: Int = 10, activity: TorrentActivity = .downloading,
                        peers: Int = 3, seed: UInt8 = 1) -> TorrentSnapshot {
        var bits = Bitfield(count: pieces)
        for index in 0..<have { bits.set(index) }
        let peerList = (0..<peers).map { n in
            PeerSnapshot(address: "127.0.0.1:\(7000 + n)", client: "libtorrent 2.0.8", flags: n == 0 ? "DU" : "dI",
                         downloadRate: 100_000, uploadRate: 5_000, progress: 0.5, pieces: Bitfield(count: pieces, allSet: n == 0))
        }
        return TorrentSnapshot(
            id: InfoHash(bytes: [UInt8](repeating: seed, count: 20))!, name: name, totalSize: Int64(pieces) * 16_384,
            wantedSize: Int64(pieces) * 16_384, haveSize: Int64(have) * 16_384, activity: activity, error: nil,
            downloadRate: 1_048_576, uploadRate: 65_536, downloaded: 1_000, uploaded: 500, eta: 75, pieces: bits,
            piecesInProgress: [have, have + 1], availability: [Int](repeating: 2, count: pieces), peers: peerList,
            trackers: [TrackerSnapshot(url: "http://127.0.0.1:6969/announce", tier: 0, status: "working", error: nil,
                                       lastAnnounce: nil, nextAnnounce: nil, seeders: 1, leechers: 4, peersReturned: 5)],
            files: [FileSnapshot(path: "a.bin", size: 1000, haveSize: 500, priority: .normal),
                    FileSnapshot(path: "b/c.bin", size: 2000, haveSize: 0, priority: .skip)],
            downloadDirectory: "/tmp/x", isPrivate: false, hashFailures: 0, bannedPeers: 0,
            piecesHashedOnCheck: 0)
    }

    static func session(_ torrents: [TorrentSnapshot]) -> SessionSnapshot {
        SessionSnapshot(torrents: torrents, downloadRate: 1_048_576, uploadRate: 65_536, listenPort: 6881,
                        downloadLimit: 0, uploadLimit: 512 * 1024, downloadDirectory: "/tmp/x")
    }

    @Test func listShowsColumnsRatesAndStatusBar() {
        let snapshot = Self.session([Self.torrent("ubuntu.iso"), Self.torrent("debian.iso", activity: .seeding, seed: 2)])
        var state = UIState()
        state.observe(snapshot, now: .now)
        let text = Screen(freeDiskBytes: 5 << 30).render(snapshot, state: state, width: 140, height: 20).text
        #expect(text.contains("Shoal"))
        #expect(text.contains("ubuntu.iso"))
        #expect(text.contains("downloading"))
        #expect(text.contains("seeding"))
        #expect(text.contains("25.0%"))
        #expect(text.contains("1.00 MiB/s"))
        #expect(text.contains("1m 15s"))
        #expect(text.contains("port 6881"))
        #expect(text.contains("limit 512.00 KiB/s"))
        #expect(text.contains("free 5.00 GiB"))
        #expect(text.contains("3/0"), "peers/seeds")
    }

    /// The Peers tab of the only torrent, rendered at 120×24.
    static func peersTab(_ snapshot: SessionSnapshot) -> [Substring] {
        var state = UIState()
        state.observe(snapshot, now: .now)
        _ = state.handle(.enter, snapshot: snapshot, pageSize: 10)
        _ = state.handle(.tab, snapshot: snapshot, pageSize: 10)
        return Screen().render(snapshot, state: state, width: 120, height: 24).text.split(separator: "\n")
    }

    /// With no peers connected, the Peers tab says how the connections ended, most frequent first.
    @Test func peersTabCountsWhyConnectionsEnded() {
        var torrent = Self.torrent("lonely.iso", peers: 0)
        for _ in 0..<5 { torrent.closeReasons.add(.connectFailed) }
        for _ in 0..<2 { torrent.closeReasons.add(.badData) }
        torrent.closeReasons.add(.enoughPeers)
        let lines = Self.peersTab(Self.session([torrent]))
        #expect(lines.contains { $0.contains("no peers connected") })
        #expect(lines.contains { $0.contains("closed 8: 5 connect, 2 bad data, 1 slots full") }, "\(lines.joined(separator: "\n"))")
    }

    /// Web seeds are rows under the peers, flagged W, with their state where a peer's pieces go.
    @Test func peersTabShowsWebSeeds() {
        var torrent = Self.torrent("mirrored.iso", peers: 1)
        var servers = WebSeedSchedule(urls: ["http://mirror.example:8080/pub/", "https://bad.example/x"])
        servers.opened(0)
        servers.drop(1, reason: "sent data that failed the hash check")
        torrent.details.webSeeds = [WebSeedSnapshot(server: servers.servers[0], downloadRate: 2_097_152),
                                    WebSeedSnapshot(server: servers.servers[1], downloadRate: 0)]
        let lines = Self.peersTab(Self.session([torrent]))
        let good = lines.first { $0.contains("mirror.example:8080") }
        #expect(good?.contains("web seed") == true && good?.contains(" WD ") == true && good?.contains("2.00 MiB/s") == true,
                "\(lines.joined(separator: "\n"))")
        let bad = lines.first { $0.contains("bad.example") }
        #expect(bad?.contains(" W ") == true && bad?.contains("dropped: sent data that failed") == true)
        #expect(!lines.contains { $0.contains("no peers connected") })
    }

    /// An encrypted IPv6 peer: its address in brackets, whole, and the `E` flag in the row.
    @Test func peersTabShowsAnEncryptedIPv6Peer() {
        var torrent = Self.torrent("six.iso", peers: 0)
        torrent.peers = [PeerSnapshot(address: "[2001:db8::7]:51413", client: "qBittorrent 4.6.2", flags: "DUEI", downloadRate: 1_000,
                                      uploadRate: 0, progress: 1, pieces: Bitfield(count: 40, allSet: true))]
        let lines = Self.peersTab(Self.session([torrent]))
        let row = lines.first { $0.contains("[2001:db8::7]:51413") }
        #expect(row?.contains(" DUEI ") == true, "\(lines.joined(separator: "\n"))")
    }

    @Test func detailTabsRenderPiecesPeersTrackersFilesRates() {
        let snapshot = Self.session([Self.torrent("movie.mkv")])
        var state = UIState()
        state.observe(snapshot, now: .now)
        _ = state.handle(.enter, snapshot: snapshot, pageSize: 10)
        #expect(state.inDetail)
        let screen = Screen()
        let pieces = screen.render(snapshot, state: state, width: 120, height: 24).text
        #expect(pieces.contains("have 10/40"))
        #expect(pieces.contains("downloading 2"))
        #expect(pieces.contains("█"))
        #expect(pieces.contains("distributed copies"))
        _ = state.handle(.tab, snapshot: snapshot, pageSize: 10)
        let peers = screen.render(snapshot, state: state, width: 120, height: 24).text
        #expect(peers.contains("127.0.0.1:7000") && peers.contains("libtorrent 2.0.8") && peers.contains("DU"))
        _ = state.handle(.character("3"), snapshot: snapshot, pageSize: 10)
        let trackers = screen.render(snapshot, state: state, width: 140, height: 24).text
        #expect(trackers.contains("http://127.0.0.1:6969/announce") && trackers.contains("working"))
        _ = state.handle(.character("4"), snapshot: snapshot, pageSize: 10)
        let files = screen.render(snapshot, state: state, width: 120, height: 24).text
        #expect(files.contains("▾ b/") && files.contains("    c.bin") && files.contains("skip") && files.contains("50.0%"))
        _ = state.handle(.character("5"), snapshot: snapshot, pageSize: 10)
        #expect(screen.render(snapshot, state: state, width: 120, height: 24).text.contains("download"))
        _ = state.handle(.escape, snapshot: snapshot, pageSize: 10)
        #expect(!state.inDetail)
    }

    @Test func pieceMapScalesGroupsToTheWindow() {
        let snapshot = Self.session([Self.torrent("big", pieces: 10_000, have: 5_000)])
        var state = UIState()
        state.observe(snapshot, now: .now)
        state.inDetail = true
        let text = Screen().render(snapshot, state: state, width: 80, height: 20).text
        #expect(text.contains("pieces a cell"))
        #expect(text.contains("have 5000/10000"))
    }

    @Test func asciiGlyphsWhenTheTerminalIsNotUTF8() {
        let snapshot = Self.session([Self.torrent("a")])
        var state = UIState()
        state.observe(snapshot, now: .now)
        state.inDetail = true
        let text = Screen(glyphs: .ascii).render(snapshot, state: state, width: 100, height: 20).text
        #expect(!text.contains("█"))
        #expect(text.contains("#"))
    }

    @Test func keysBecomeCommands() {
        let snapshot = Self.session([Self.torrent("one"), Self.torrent("two", seed: 2)])
        var state = UIState()
        state.observe(snapshot, now: .now)
        let first = snapshot.torrents[0].id
        #expect(state.handle(.character("p"), snapshot: snapshot, pageSize: 10) == [.pause(first)])
        _ = state.handle(.down, snapshot: snapshot, pageSize: 10)
        #expect(state.selectedID == snapshot.torrents[1].id)
        #expect(state.handle(.character("r"), snapshot: snapshot, pageSize: 10).isEmpty)
        #expect(state.handle(.character("y"), snapshot: snapshot, pageSize: 10) == [.remove(snapshot.torrents[1].id, deleteData: false)])
        #expect(state.handle(.character("R"), snapshot: snapshot, pageSize: 10).isEmpty)
        #expect(state.handle(.character("n"), snapshot: snapshot, pageSize: 10).isEmpty, "declined")
        _ = state.handle(.character("a"), snapshot: snapshot, pageSize: 10)
        for c in "/x.torrent" { _ = state.handle(.character(c), snapshot: snapshot, pageSize: 10) }
        #expect(state.handle(.enter, snapshot: snapshot, pageSize: 10) == [.add(path: "/x.torrent")])
        _ = state.handle(.character("/"), snapshot: snapshot, pageSize: 10)
        _ = state.handle(.character("t"), snapshot: snapshot, pageSize: 10)
        _ = state.handle(.character("w"), snapshot: snapshot, pageSize: 10)
        _ = state.handle(.enter, snapshot: snapshot, pageSize: 10)
        #expect(state.visible(snapshot).map(\.name) == ["two"])
        // Both are downloading: quitting asks first, and q again confirms.
        #expect(state.handle(.character("q"), snapshot: snapshot, pageSize: 10) == [])
        #expect(state.handle(.character("q"), snapshot: snapshot, pageSize: 10) == [.quit])
    }

    @Test func filePrioritiesFromTheFilesTab() {
        let snapshot = Self.session([Self.torrent("f")])
        var state = UIState()
        state.observe(snapshot, now: .now)
        state.inDetail = true
        state.tab = .files
        let id = snapshot.torrents[0].id
        // The rows: b/ (the folder first), c.bin in it, a.bin.
        #expect(state.handle(.character("+"), snapshot: snapshot, pageSize: 10) == [.setFilePriorities(id, [.normal, .low])])
        _ = state.handle(.down, snapshot: snapshot, pageSize: 10)
        _ = state.handle(.down, snapshot: snapshot, pageSize: 10)
        #expect(state.handle(.character("+"), snapshot: snapshot, pageSize: 10) == [.setFilePriorities(id, [.high, .skip])])
        #expect(state.handle(.character("x"), snapshot: snapshot, pageSize: 10) == [.setFilePriorities(id, [.skip, .skip])])
    }

    @Test func reannounceAsksForTheSelectedTorrent() {
        let snapshot = Self.session([Self.torrent("a.iso"), Self.torrent("b.iso")])
        var state = UIState()
        _ = state.handle(.down, snapshot: snapshot, pageSize: 10)
        #expect(state.handle(.character("A"), snapshot: snapshot, pageSize: 10) == [.reannounce(snapshot.torrents[1].id)])
    }

    /// Every binding can be read in the help at any size from 60×20 up, scrolling where it does
    /// not fit, and nothing behind it shows through (it was cut off after "/ filter by name" at
    /// 120×32 with no way to scroll, and showed 14 of 36 bindings at 60×20).
    @Test(arguments: [(60, 20), (100, 40), (120, 32), (200, 50)])
    func helpShowsEveryBindingAndScrolls(width: Int, height: Int) {
        let snapshot = Self.session([Self.torrent("behind-the-help.iso")])
        var state = UIState()
        state.layout = ScreenLayout(width: width, height: height)
        state.observe(snapshot, now: .now)
        _ = state.handle(.character("?"), snapshot: snapshot, pageSize: 10)
        var seen = ""
        var frames = 0
        repeat {
            let text = Screen().render(snapshot, state: state, width: width, height: height).text
            #expect(!text.contains("behind-the-help") && !text.contains("Progress"), "the list shows through at \(width)×\(height)")
            seen += text
            frames += 1
            _ = state.handle(.pageDown, snapshot: snapshot, pageSize: 10)
        } while state.helpScroll < HelpView.maxScroll(width: width, height: height) && frames < 20
        seen += Screen().render(snapshot, state: state, width: width, height: height).text
        for binding in Keymap.bindings {
            #expect(binding.description.count <= 41, "\(binding.description) is too long for a 60-column help")
            #expect(seen.contains(binding.description), "\(binding.description) at \(width)×\(height)")
            #expect(seen.contains(binding.keys.map(\.label).joined(separator: " ")), "\(binding.description)'s keys")
        }
        #expect(state.showHelp, "paging keys scroll the help, they do not close it")
        _ = state.handle(.escape, snapshot: snapshot, pageSize: 10)
        #expect(!state.showHelp)
        _ = state.handle(.character("?"), snapshot: snapshot, pageSize: 10)
        #expect(state.helpScroll == 0)
        #expect(state.handle(.character("q"), snapshot: snapshot, pageSize: 10).isEmpty && !state.showHelp, "q closes the help, not Shoal")
    }

    @Test func themesParseAndRejectNonsense() throws {
        let theme = try Theme.parse("""
            name = "test"
            [slots]
            selected = { fg = "black", bg = 214, bold = true }
            piece_have = { fg = "bright_green" }
            """, name: "test.toml")
        #expect(theme.style(.selected) == Theme.Style(0, 214, bold: true))
        #expect(theme.style(.pieceHave).foreground == 10)
        #expect(theme.style(.text) == Theme.builtIn.style(.text), "unchanged slots keep the default")
        #expect(throws: Theme.LoadError.self) { try Theme.parse("[slots]\nnope = { fg = 1 }", name: "x") }
        #expect(throws: Theme.LoadError.self) { try Theme.parse("[slots]\ntext = { fg = \"purpleish\" }", name: "x") }
        #expect(throws: Theme.LoadError.self) { try Theme.parse("[slots\n", name: "x") }
    }

    @Test func wideCharactersTakeTwoColumns() {
        var buffer = CellBuffer(width: 10, height: 1)
        let end = buffer.put("日本x", x: 0, y: 0, style: .text)
        #expect(end == 5)
        #expect(buffer.line(0).hasPrefix("日本x"))
        #expect("日本語のファイル".fitted(7) == "日本語…")
    }

    /// A torrent, peer or tracker string holding terminal escapes reaches no cell as one.
    @Test func controlCharactersNeverReachACell() {
        var buffer = CellBuffer(width: 30, height: 1)
        buffer.put("\u{1B}]0;PWNED\u{07}\u{1B}[2J\u{202E}x", x: 0, y: 0, style: .text)
        #expect(buffer.line(0).hasPrefix("?]0;PWNED??[2J?x"))
        #expect(!buffer.cells.contains { $0.scalar.value < 0x20 || $0.scalar.value == 0x202E })
    }
}

@Suite("Shipped themes")
struct ShippedThemeTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Themes")

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".toml") }.sorted()
    }

    @Test func fiveThemesShip() {
        #expect(Set(Self.files).isSuperset(of: ["default.toml", "light.toml", "mono.toml", "nord.toml", "solarized-dark.toml"]))
    }

    @Test("every shipped theme parses", arguments: files)
    func parses(file: String) throws {
        let text = try String(contentsOf: Self.directory.appendingPathComponent(file), encoding: .utf8)
        let theme = try Theme.parse(text, name: file)
        #expect(theme.name == file.replacingOccurrences(of: ".toml", with: ""))
    }

    @Test func theDefaultFileMatchesTheBuiltInDefault() throws {
        let text = try String(contentsOf: Self.directory.appendingPathComponent("default.toml"), encoding: .utf8)
        #expect(try Theme.parse(text, name: "default.toml").styles == Theme.builtIn.styles)
    }
}

@Suite("TUI commands for all torrents, verify and limits")
struct GlobalKeyTests {
    @Test func pauseAllThenResumeAll() {
        let torrents = [ScreenTests.torrent("a"), ScreenTests.torrent("b", activity: .paused, seed: 2)]
        var state = UIState()
        let snapshot = ScreenTests.session(torrents)
        state.observe(snapshot, now: .now)
        #expect(state.handle(.character("P"), snapshot: snapshot, pageSize: 5) == [.pause(torrents[0].id)])
        let allPaused = ScreenTests.session([ScreenTests.torrent("a", activity: .paused), torrents[1]])
        #expect(state.handle(.character("P"), snapshot: allPaused, pageSize: 5) == [.resume(torrents[0].id), .resume(torrents[1].id)])
    }

    @Test func limitsAreTypedInKiBPerSecond() {
        let snapshot = ScreenTests.session([ScreenTests.torrent("a")])
        var state = UIState()
        state.observe(snapshot, now: .now)
        _ = state.handle(.character("u"), snapshot: snapshot, pageSize: 5)
        _ = state.handle(.character("x"), snapshot: snapshot, pageSize: 5)  // not a digit: ignored
        for c in "512" { _ = state.handle(.character(c), snapshot: snapshot, pageSize: 5) }
        #expect(Screen().render(snapshot, state: state, width: 100, height: 12).text.contains("Upload limit, KiB/s"))
        #expect(state.handle(.enter, snapshot: snapshot, pageSize: 5) == [.setGlobalLimits(uploadKiB: 512, downloadKiB: nil)])
        _ = state.handle(.character("d"), snapshot: snapshot, pageSize: 5)
        #expect(state.handle(.character("0"), snapshot: snapshot, pageSize: 5).isEmpty)
        #expect(state.handle(.enter, snapshot: snapshot, pageSize: 5) == [.setGlobalLimits(uploadKiB: nil, downloadKiB: 0)])
        #expect(state.handle(.character("v"), snapshot: snapshot, pageSize: 5) == [.verify(snapshot.torrents[0].id)])
    }

    @Test func tinyWindowsSayTheyAreTooSmall() {
        let snapshot = ScreenTests.session([ScreenTests.torrent("a")])
        let text = Screen().render(snapshot, state: UIState(), width: 15, height: 4).text
        #expect(text.contains("too small"))
    }

    @Test func thousandsOfTorrentsScroll() {
        let torrents = (0..<3000).map { n in ScreenTests.torrent("t\(n)", seed: UInt8(truncatingIfNeeded: n)) }
        // Distinct ids: vary the hash by index.
        let unique = torrents.enumerated().map { index, torrent -> TorrentSnapshot in
            var copy = torrent
            copy.id = InfoHash(bytes: (0..<20).map { UInt8(truncatingIfNeeded: index >> ($0 % 4 * 8)) ^ UInt8($0) })!
            return copy
        }
        let snapshot = ScreenTests.session(unique)
        var state = UIState()
        state.observe(snapshot, now: .now)
        _ = state.handle(.end, snapshot: snapshot, pageSize: 20)
        let text = Screen().render(snapshot, state: state, width: 140, height: 24).text
        #expect(text.contains("t2999"))
        #expect(text.contains("of 3000"))
    }
}
