import Foundation
import Logging
import Synchronization
import ShoalEngine
import Testing

@Suite("Log file and line format")
struct LogSinkTests {
    /// Past its size the file moves to `.1`, older ones move up, and at most `keep` are kept:
    /// 2,000 lines into a 4 KiB file leave four files, none over the size, the last line last.
    /// The Log view's source: info and up, the last 500, read on from where a reader was.
    @Test func recentLogKeepsTheLastLinesForReaders() {
        let recent = RecentLog()
        let logger = Logger(label: "t", factory: { _ in recent.handler() })
        logger.debug("too fine")
        logger.info("one")
        logger.warning("two", metadata: ["peer": "127.0.0.1:1"])
        let first = recent.lines(after: 0)
        #expect(first.count == 2 && first.lines.count == 2)
        #expect(first.lines[0].contains(" info one") && first.lines[1].contains(" warning two peer=127.0.0.1:1"))
        #expect(recent.lines(after: first.count).lines.isEmpty)
        for n in 0..<2000 { logger.info("line \(n)") }
        let later = recent.lines(after: first.count)
        #expect(later.count == 2002 && later.lines.count == RecentLog.capacity, "a reader far behind gets the newest")
        #expect(later.lines.last?.hasSuffix("line 1999") == true)
        #expect(recent.lines(after: 2000).lines.count == 2)
    }

    @Test func logFileRotatesAndKeepsAFewOldOnes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-log-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("nested/shoal.log").path
        let log = try LogFile(path: path, maxBytes: 4096, keep: 3)
        for number in 0..<2_000 { log.write("line \(number) " + String(repeating: "x", count: 40)) }
        let names = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent).sorted()
        #expect(names == ["shoal.log", "shoal.log.1", "shoal.log.2", "shoal.log.3"])
        for name in names {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("nested/" + name).path)[.size] as? Int)
            #expect(size <= 4096, "\(name) is \(size) bytes")
        }
        let current = try String(contentsOfFile: path, encoding: .utf8)
        #expect(current.hasSuffix("line 1999 " + String(repeating: "x", count: 40) + "\n"))
        let older = try String(contentsOfFile: path + ".1", encoding: .utf8).split(separator: "\n")
        let newest = try #require(Int(current.split(separator: "\n").first!.split(separator: " ")[1]))
        let lastOfOlder = try #require(Int(older.last!.split(separator: " ")[1]))
        #expect(lastOfOlder == newest - 1, "no line lost between the files")
    }

    /// A reopened log appends, and counts what is already there toward the size.
    @Test func reopenedLogAppends() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-log-\(UUID().uuidString).log").path
        defer { for suffix in ["", ".1"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        try LogFile(path: path, maxBytes: 4096).write("first")
        try LogFile(path: path, maxBytes: 4096).write("second")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "first\nsecond\n")
    }

    /// Time in UTC, level, message, sorted metadata; values with spaces quoted; escapes from
    /// outside (a torrent name, a tracker's reply) made harmless.
    @Test func linesAreSplittableAndSafe() {
        let line = LineLogHandler.format(time: Date(timeIntervalSince1970: 1_800_000_000.25), level: .notice,
                                         message: "banned 127.0.0.1:6881",
                                         metadata: ["torrent": "evil\u{1B}]0;PWNED\u{07}.iso", "reason": "sent \"bad\" data", "peer": "1.2.3.4:5"])
        #expect(line == "2027-01-15T08:00:00.250Z notice banned 127.0.0.1:6881 peer=1.2.3.4:5 reason=\"sent \\\"bad\\\" data\" torrent=evil?]0;PWNED?.iso")
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 })
    }

    /// The handler filters by its level and carries the logger's metadata.
    @Test func handlerFiltersByLevel() {
        let lines = LinesSeen()
        var logger = Logger(label: "t") { _ in LineLogHandler(level: .info) { lines.add($0) } }
        logger[metadataKey: "torrent"] = "a"
        logger.debug("hidden")
        logger.info("shown", metadata: ["peer": "p"])
        #expect(lines.all.count == 1)
        #expect(lines.all.first?.hasSuffix(" info shown peer=p torrent=a") == true)
    }
}

final class LinesSeen: Sendable {
    private let lines = Mutex<[String]>([])
    func add(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}
