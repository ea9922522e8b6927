import Foundation
import Logging
import ShoalCore
import ShoalEngine
import ShoalTracker

/// A whole swarm in one process, on 127.0.0.1: sample content, a torrent made the way
/// `shoal create` makes it, an embedded tracker, one seeder and several leechers with different
/// upload caps so that pieces visibly flow between leechers, not only from the seeder.
final class DemoSwarm: Sendable {
    struct Member: Sendable {
        let name: String
        let session: Session
        let uploadLimit: Int
    }

    let directory: URL
    let content: URL
    let metainfo: Metainfo
    let tracker: TrackerServer
    let members: [Member]

    /// The leecher a user watches (the last one: it starts with nothing, like a real download).
    var watched: Member { members[members.count - 1] }
    var leechers: [Member] { Array(members.dropFirst()) }

    /// `minutes`: about how long the leechers take (the caps are scaled to it); nil keeps the
    /// fast caps below (about 40 s for the default 32 MiB and 6 peers).
    static func start(peers: Int, sizeMiB: Int, minutes: Double? = nil) async throws -> DemoSwarm {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-demo-\(UUID().uuidString.prefix(8))")
        let content = directory.appendingPathComponent("seed/Shoal Demo Album")
        try FileManager.default.createDirectory(at: content, withIntermediateDirectories: true)
        // A few files of different sizes, so the Files tab has something to show.
        let total = max(1, sizeMiB) << 20
        let shares = [("01 - Flash Crowd.flac", 40), ("02 - Rarest First.flac", 30), ("03 - Tit for Tat.flac", 20),
                      ("cover.jpg", 7), ("notes.txt", 3)]
        var generator = SystemRandomNumberGenerator()
        for (name, percent) in shares {
            let size = max(1, total * percent / 100)
            var bytes = [UInt8](repeating: 0, count: size)
            for index in stride(from: 0, to: size, by: 8) {
                let word = generator.next() as UInt64
                for offset in 0..<min(8, size - index) { bytes[index + offset] = UInt8(truncatingIfNeeded: word >> (offset * 8)) }
            }
            try Data(bytes).write(to: content.appendingPathComponent(name))
        }

        let tracker = try await TrackerServer.start(bind: "127.0.0.1", httpPort: 0, udpPort: 0, interval: 10)
        let layout = try ContentScanner.scan(content.path)
        let pieceLength = MetainfoBuilder.automaticPieceLength(totalLength: layout.totalLength)
        let hashes = try PieceHasher.hash(layout, pieceLength: pieceLength, threads: ProcessInfo.processInfo.activeProcessorCount)
        var builder = MetainfoBuilder(name: layout.name, files: layout.files.map { .init(rawPath: $0.rawPath, length: $0.length) },
                                      length: layout.totalLength, pieceLength: pieceLength, pieceHashes: hashes)
        builder.trackerTiers = [[tracker.announceURL], [tracker.udpAnnounceURL ?? tracker.announceURL]]
        builder.createdBy = ShoalVersion.createdBy
        builder.comment = "made by shoal demo"
        let metainfo = try Metainfo(bytes: builder.encoded())
        try Data(builder.encoded()).write(to: directory.appendingPathComponent("demo.torrent"))

        // The seeder uploads at 1 MiB/s; leechers from 256 KiB/s up, so the fast ones feed the slow.
        var members: [Member] = []
        let count = max(2, peers)
        let caps = Self.uploadCaps(peers: count, sizeMiB: sizeMiB, minutes: minutes)
        for index in 0..<count {
            let name = index == 0 ? "seed" : "leecher\(index)"
            let limit = caps[index]
            let downloads = index == 0 ? directory.appendingPathComponent("seed") : directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: downloads, withIntermediateDirectories: true)
            var config = EngineConfig(downloadDirectory: downloads.path, listenPort: 0, bindAddress: "127.0.0.1",
                                      uploadLimit: limit, minimumAnnounceInterval: .seconds(3), trackerTimeout: .seconds(5),
                                      udpTrackerRetry: .init(firstTimeout: .seconds(1), attempts: 2))
            if index == count - 1 {
                // The watched leecher's log, for the interface's Log view.
                let recent = RecentLog()
                config.recentLog = recent
                config.logger = Logger(label: "shoal", factory: { _ in recent.handler() })
            }
            let session = try await Session.start(config)
            try await session.add(metainfo)
            members.append(Member(name: name, session: session, uploadLimit: limit))
        }
        return DemoSwarm(directory: directory, content: content, metainfo: metainfo, tracker: tracker, members: members)
    }

    /// Each member's upload cap: the seeder 1 MiB/s and leechers 256 KiB/s to 1 MiB/s, or all
    /// scaled so that the copies the leechers need take about `minutes` at the swarm's total.
    static func uploadCaps(peers: Int, sizeMiB: Int, minutes: Double?) -> [Int] {
        let fast = (0..<peers).map { index in index == 0 ? 1 << 20 : (256 << 10) * (1 + (index % 4)) }
        guard let minutes, minutes > 0 else { return fast }
        let needed = Double(peers - 1) * Double(sizeMiB << 20)
        let scale = needed / (minutes * 60) / Double(fast.reduce(0, +))
        return fast.map { max(16 << 10, Int(Double($0) * scale)) }
    }

    /// Once every leecher has everything: a pause, then the leechers start over from nothing,
    /// so the demo can be watched again, until the interface quits (cancelling this).
    func replayWhenDone(pause: Duration = .seconds(20)) async {
        while !Task.isCancelled {
            while !(await allLeechersComplete()) {
                do { try await Task.sleep(for: .seconds(1)) } catch { return }
            }
            await watched.session.report("demo: every leecher has the whole album; it starts again in \(pause.components.seconds) s (q quits)",
                                         level: .info)
            do { try await Task.sleep(for: pause) } catch { return }
            for member in leechers {
                do {
                    try await member.session.remove(metainfo.infoHash, deleteData: true)
                    try await member.session.add(metainfo)
                } catch {
                    await watched.session.report("demo: \(member.name) cannot start again: \(error)")
                }
            }
        }
    }

    private init(directory: URL, content: URL, metainfo: Metainfo, tracker: TrackerServer, members: [Member]) {
        self.directory = directory
        self.content = content
        self.metainfo = metainfo
        self.tracker = tracker
        self.members = members
    }

    /// Runs the tracker and every session until `stop()`.
    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.tracker.run() }
            for member in members { group.addTask { await member.session.run() } }
        }
    }

    /// Stops everything (sessions first, then the tracker) and deletes the demo's files.
    func stop() async {
        for member in members { await member.session.shutdown() }
    }

    func stopTracker() async { await tracker.shutdown() }

    func removeFiles() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// True when every leecher has every piece verified.
    func allLeechersComplete() async -> Bool {
        for member in leechers {
            guard let torrent = await member.session.snapshot().torrents.first, torrent.isComplete,
                torrent.activity != .checking
            else { return false }
        }
        return true
    }

    /// Byte-for-byte comparison of each leecher's copy with the original.
    func verifyCopies() -> [String] {
        var problems: [String] = []
        for member in leechers {
            for file in metainfo.info.files {
                let original = content.appendingPathComponent(file.displayPath).path
                let copy = directory.appendingPathComponent(member.name).appendingPathComponent(metainfo.info.name)
                    .appendingPathComponent(file.displayPath).path
                if !FileManager.default.contentsEqual(atPath: original, andPath: copy) {
                    problems.append("\(member.name): \(file.displayPath) differs")
                }
            }
        }
        return problems
    }
}
