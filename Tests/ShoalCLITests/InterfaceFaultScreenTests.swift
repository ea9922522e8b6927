import Foundation
import ShoalTestSupport
import Testing

/// The real binary in tmux, in the plainest terminal a user may have: `LC_ALL=C` (no UTF-8)
/// and `--theme mono`. What reaches the terminal is ASCII, carries no colour, says "none" for no
/// limit, and the help scrolls and closes; a filter that matches nothing says so; T switches
/// to a theme with colours while it runs.
@Suite("Interface in a C locale with the mono theme", .serialized)
struct InterfaceFaultScreenTests {
    @Test(.enabled(if: ExternalProcess.available("tmux")))
    func cLocaleMonoHelpAndFilter() async throws {
        let directory = try TemporaryDirectory()
        let content = try directory.write("data/plain.bin", bytes: 100_000, seed: 9)
        let torrent = directory.url.appendingPathComponent("plain.torrent")
        // The tracker's port is closed: the torrent only needs to be listed.
        #expect(try await ShoalBinary.run(["create", content.path, "-t", "http://127.0.0.1:9/announce", "-o", torrent.path]).status == 0)
        // swift test sets NO_COLOR, which alone would make any theme monochrome: unset here, so
        // the absence of colour is mono's doing.
        let command = "env -u NO_COLOR LANG=C LC_ALL=C TERM=xterm-256color '\(ShoalBinary.url.path)' --theme mono --bind 127.0.0.1 --port 0 "
            + "--download-dir '\(directory.url.appendingPathComponent("leech").path)' "
            + "--state-dir '\(directory.url.appendingPathComponent("state").path)' '\(torrent.path)'"
        let tmux = try await TmuxSession.start(command, width: 100, height: 24)
        defer { Task { await tmux.stop() } }
        let list = try await tmux.waitFor(.seconds(60)) { $0.contains("plain.bin") && $0.contains("(limit none)") }
        #expect(list.contains("(limit none)"), "\(list)")
        let styled = try await tmux.run(["capture-pane", "-e", "-p", "-t", tmux.name])
        #expect(styled.unicodeScalars.allSatisfy { $0.isASCII }, "non-ASCII reached a C-locale terminal")
        // SGR 30-38/40-48/90-97/100-107 are colours; 39 and 49 (the terminal's own), 7 (reverse)
        // and 1 (bold) are not.
        let colour = try Regex(#"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9;]*)?m"#)
        #expect(styled.firstMatch(of: colour) == nil, "a colour in mono: \(styled.debugDescription.prefix(400))")
        let reverse = try Regex(#"\x1b\[(?:[0-9;]*;)?7(?:;[0-9;]*)?m"#)
        #expect(styled.firstMatch(of: reverse) != nil, "the selected row is still shown, reversed")

        try await tmux.keys("?")
        let help = try await tmux.waitFor(.seconds(10)) { $0.contains("Everywhere") }
        #expect(help.contains("lines 1-") && !help.contains("plain.bin"), "\(help)")
        var scrolled = ""
        for _ in 0..<5 where !scrolled.contains("skip / unskip (a folder: all in it)") {
            try await tmux.keys("NPage")
            scrolled = try await tmux.waitFor(.seconds(3)) { $0.contains("skip / unskip (a folder: all in it)") }
        }
        #expect(scrolled.contains("skip / unskip (a folder: all in it)") && scrolled.contains("quit"), "\(scrolled)")
        try await tmux.keys("Escape")
        let back = try await tmux.waitFor(.seconds(10)) { $0.contains("plain.bin") && !$0.contains("Everywhere") }
        #expect(back.contains("plain.bin"), "\(back)")

        try await tmux.keys("/")
        try await tmux.type("zzz")
        try await tmux.keys("Enter")
        let none = try await tmux.waitFor(.seconds(10)) { $0.contains("Nothing matches") }
        #expect(none.contains("Nothing matches \"zzz\"") && !none.contains("No torrents"), "\(none)")
        // L: the log says why the tracker gives nothing.
        try await tmux.keys("L")
        let log = try await tmux.waitFor(.seconds(20)) { $0.contains("announce failed") }
        #expect(log.contains("announce failed") && log.contains("refused"), "\(log)")
        try await tmux.keys("Escape")
        // T switches the theme live: from mono to the next, which has colours.
        try await tmux.keys("T")
        let switched = try await tmux.waitFor(.seconds(10)) { $0.contains("theme ") && $0.contains("config.toml keeps it") }
        #expect(!switched.contains("theme mono"), "\(switched)")
        let coloured = try await tmux.run(["capture-pane", "-e", "-p", "-t", tmux.name])
        #expect(coloured.firstMatch(of: colour) != nil, "the next theme draws in colour: \(coloured.debugDescription.prefix(300))")
        await tmux.stop()
    }
}
