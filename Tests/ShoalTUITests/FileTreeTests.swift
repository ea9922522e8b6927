import Foundation
import ShoalCore
@testable import ShoalEngine
import Testing
@testable import ShoalTUI

/// The Files tab as a tree: folders sum what is below them, fold and unfold, and take a priority
/// for everything in them, at four levels.
@Suite("Files tab tree")
struct FileTreeTests {
    /// Five files, in the torrent's order: readme, part1, part2, trailer, cover.
    static let files = [
        FileSnapshot(path: "docs/readme.txt", size: 1_000, haveSize: 1_000, priority: .normal),
        FileSnapshot(path: "video/part1.mkv", size: 40_000, haveSize: 10_000, priority: .normal),
        FileSnapshot(path: "video/part2.mkv", size: 40_000, haveSize: 0, priority: .skip),
        FileSnapshot(path: "video/extras/trailer.mkv", size: 20_000, haveSize: 20_000, priority: .high),
        FileSnapshot(path: "cover.jpg", size: 500, haveSize: 0, priority: .normal),
    ]

    static func snapshot(_ files: [FileSnapshot] = files) -> SessionSnapshot {
        var torrent = ScreenTests.torrent("album")
        torrent.files = files
        return ScreenTests.session([torrent])
    }

    @Test func foldersComeFirstAndSumWhatIsBelow() {
        let rows = FileTree(files: Self.files).rows
        #expect(rows.map(\.name) == ["docs", "readme.txt", "video", "extras", "trailer.mkv", "part1.mkv", "part2.mkv", "cover.jpg"])
        #expect(rows.map(\.depth) == [0, 1, 0, 1, 2, 1, 1, 0])
        let video = rows[2]
        #expect(video.folder == "video" && video.size == 100_000 && video.haveSize == 30_000 && video.priority == nil, "mixed")
        #expect(Set(video.files) == [1, 2, 3] && rows[3].folder == "video/extras" && rows[3].priority == .high)
        #expect(rows[0].priority == .normal && rows[4].folder == nil && rows[4].files == [3])

        let folded = FileTree(files: Self.files, collapsed: ["video"]).rows
        #expect(folded.map(\.name) == ["docs", "readme.txt", "video", "cover.jpg"] && folded[2].collapsed && folded[2].size == 100_000)
        // A folder folded inside an open one hides only its own contents.
        #expect(FileTree(files: Self.files, collapsed: ["video/extras"]).rows.map(\.name).contains("part1.mkv"))
        #expect(!FileTree(files: Self.files, collapsed: ["video/extras"]).rows.map(\.name).contains("trailer.mkv"))
        // A single-file torrent is one row; a stray "//" makes no empty folder.
        #expect(FileTree(files: [FileSnapshot(path: "one.iso", size: 1, haveSize: 0, priority: .normal)]).rows.map(\.name) == ["one.iso"])
        let stray = FileTree(files: [FileSnapshot(path: "a//b.bin", size: 1, haveSize: 0, priority: .low)]).rows
        #expect(stray.map(\.name) == ["a", "b.bin"] && stray[0].priority == .low)
    }

    @Test func aFoldersPriorityAppliesBelowIt() {
        let snapshot = Self.snapshot()
        let id = snapshot.torrents[0].id
        var state = UIState()
        state.observe(snapshot, now: .now)
        _ = state.handle(.enter, snapshot: snapshot, pageSize: 10)
        _ = state.handle(.character("4"), snapshot: snapshot, pageSize: 10)
        _ = state.handle(.down, snapshot: snapshot, pageSize: 10)
        _ = state.handle(.down, snapshot: snapshot, pageSize: 10)  // on video/
        // Each file below one level up (high stays high), and one down; x skips all, and again
        // brings all back at normal.
        #expect(state.handle(.character("+"), snapshot: snapshot, pageSize: 10) == [.setFilePriorities(id, [.normal, .high, .low, .high, .normal])])
        #expect(state.handle(.character("-"), snapshot: snapshot, pageSize: 10) == [.setFilePriorities(id, [.normal, .low, .skip, .normal, .normal])])
        #expect(state.handle(.character("x"), snapshot: snapshot, pageSize: 10) == [.setFilePriorities(id, [.normal, .skip, .skip, .skip, .normal])])
        var skipped = Self.files
        for index in 1...3 { skipped[index].priority = .skip }
        let allSkipped = Self.snapshot(skipped)
        #expect(state.handle(.character("x"), snapshot: allSkipped, pageSize: 10) == [.setFilePriorities(id, [.normal, .normal, .normal, .normal, .normal])])
        #expect(state.message == "video/: 3 files normal", "\(state.message ?? "")")
        // On a file, only that file: readme (row 1) from normal down to low.
        _ = state.handle(.character("g"), snapshot: snapshot, pageSize: 10)
        _ = state.handle(.down, snapshot: snapshot, pageSize: 10)
        #expect(state.handle(.character("-"), snapshot: snapshot, pageSize: 10) == [.setFilePriorities(id, [.low, .normal, .skip, .high, .normal])])
    }

    @Test func foldingShowsAndHidesAndDraws() {
        let snapshot = Self.snapshot()
        var state = UIState()
        state.layout = ScreenLayout(width: 120, height: 30)
        state.observe(snapshot, now: .now)
        for key: Key in [.enter, .character("4"), .down, .down] { _ = state.handle(key, snapshot: snapshot, pageSize: 10) }
        func screen() -> String { Screen().render(snapshot, state: state, width: 120, height: 30).text }
        let open = screen()
        let lines = open.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix(" ▾ video/") } && lines.contains { $0.hasPrefix("   ▾ extras/") }, "\(open)")
        #expect(lines.contains { $0.hasPrefix("       trailer.mkv") }, "a file is indented past its folder's marker")
        #expect(open.contains("mixed") && open.contains("part1.mkv") && open.contains("97.66 KiB"), "\(open)")
        #expect(state.handle(.enter, snapshot: snapshot, pageSize: 10) == [])
        let folded = screen()
        #expect(folded.contains("▸ video/") && !folded.contains("part1.mkv") && folded.contains("cover.jpg"), "\(folded)")
        // The cursor stays on the folder; Space unfolds it again; on a file Enter does nothing.
        #expect(state.detailRow == 2)
        _ = state.handle(.character(" "), snapshot: snapshot, pageSize: 10)
        #expect(screen().contains("part1.mkv"))
        _ = state.handle(.up, snapshot: snapshot, pageSize: 10)
        _ = state.handle(.enter, snapshot: snapshot, pageSize: 10)
        #expect(state.collapsedFolders[snapshot.torrents[0].id] == [] && state.inDetail)
        // Without UTF-8 the fold markers are ASCII.
        state.detailRow = 2
        _ = state.handle(.enter, snapshot: snapshot, pageSize: 10)
        let ascii = Screen(glyphs: .ascii).render(snapshot, state: state, width: 120, height: 30).text
        #expect(ascii.contains("+ video/") && ascii.contains("- docs/"), "\(ascii)")
    }

    @Test func lowPriorityIsShownAndDimmed() {
        var files = Self.files
        files[0].priority = .low
        let snapshot = Self.snapshot(files)
        var state = UIState()
        state.observe(snapshot, now: .now)
        for key: Key in [.enter, .character("4")] { _ = state.handle(key, snapshot: snapshot, pageSize: 10) }
        let lines = Screen().render(snapshot, state: state, width: 120, height: 30).text.split(separator: "\n")
            .map { $0.replacing(/\ +$/, with: "") }
        #expect(lines.contains { $0.contains("readme.txt") && $0.hasSuffix("low") }, "\(lines)")
        #expect(lines.contains { $0.contains("docs/") && $0.hasSuffix("low") }, "a folder of low files is low")
    }
}
