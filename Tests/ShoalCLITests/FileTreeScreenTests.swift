import Foundation
import ShoalTestSupport
import Testing

/// The Files tab of the real binary in tmux: the torrent's folders as a tree, a priority set on a
/// folder reaching every file in it (and the engine: it is there after a restart), folding.
@Suite("Files tab tree in the real binary", .serialized)
struct FileTreeScreenTests {
    @Test(.enabled(if: ExternalProcess.available("tmux")))
    func folderPriorityFoldAndRestart() async throws {
        let directory = try TemporaryDirectory()
        for (path, size) in [("album/cd1/one.bin", 40_000), ("album/cd1/two.bin", 30_000), ("album/cd2/three.bin", 20_000),
                             ("album/cover.jpg", 5_000)] {
            _ = try directory.write(path, bytes: size, seed: UInt64(size))
        }
        let torrent = directory.url.appendingPathComponent("album.torrent")
        // The tracker's port is closed: nothing downloads, the files only need to be listed.
        #expect(try await ShoalBinary.run(["create", directory.url.appendingPathComponent("album").path,
                                           "-t", "http://127.0.0.1:9/announce", "-o", torrent.path]).status == 0)
        let exitFile = directory.url.appendingPathComponent("exit")
        let command = "LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color '\(ShoalBinary.url.path)' --bind 127.0.0.1 --port 0 "
            + "--download-dir '\(directory.url.appendingPathComponent("leech").path)' "
            + "--state-dir '\(directory.url.appendingPathComponent("state").path)'"
        let first = try await TmuxSession.start(command + " '\(torrent.path)'; echo $? > '\(exitFile.path)'", width: 120, height: 30)
        defer { Task { await first.stop() } }
        _ = try await first.waitFor(.seconds(60)) { $0.contains("album") }
        try await first.keys("Enter")
        try await first.keys("4")
        let tree = try await first.waitFor(.seconds(10)) { $0.contains("▾ cd1/") && $0.contains("one.bin") }
        #expect(tree.contains("▾ cd1/") && tree.contains("▾ cd2/") && TmuxSession.line(tree, "one.bin").hasPrefix("     one.bin"),
                "\(tree)")
        // On cd1/ (the first row): one level down is low, for both files in it, as the engine has it.
        try await first.keys("-")
        let low = try await first.waitFor(.seconds(10)) {
            TmuxSession.line($0, "one.bin").hasSuffix("low") && TmuxSession.line($0, "two.bin").hasSuffix("low")
        }
        #expect(TmuxSession.line(low, "cd1/").hasSuffix("low") && TmuxSession.line(low, "three.bin").hasSuffix("normal"), "\(low)")
        try await first.keys("Enter")
        let folded = try await first.waitFor(.seconds(10)) { $0.contains("▸ cd1/") }
        #expect(!folded.contains("one.bin") && folded.contains("three.bin"), "\(folded)")
        // q asks (the torrent is downloading), y quits and saves.
        try await first.keys("q")
        _ = try await first.waitFor(.seconds(10)) { $0.contains("Quit?") }
        try await first.keys("y")
        let deadline = ContinuousClock.now + .seconds(30)
        while !FileManager.default.fileExists(atPath: exitFile.path), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect((try? String(contentsOf: exitFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        await first.stop()

        // Started again on the same state: the low files are still low.
        let second = try await TmuxSession.start(command, width: 120, height: 30)
        defer { Task { await second.stop() } }
        _ = try await second.waitFor(.seconds(60)) { $0.contains("album") }
        try await second.keys("Enter")
        try await second.keys("4")
        let restored = try await second.waitFor(.seconds(10)) { TmuxSession.line($0, "two.bin").hasSuffix("low") }
        #expect(TmuxSession.line(restored, "one.bin").hasSuffix("low") && TmuxSession.line(restored, "cover.jpg").hasSuffix("normal"),
                "\(restored)")
        await second.stop()
    }
}
