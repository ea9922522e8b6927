import Foundation
import ShoalCore
import ShoalEngine
import ShoalTracker

/// Builds content and torrents in a temporary directory and runs sessions and a tracker on
/// 127.0.0.1, all in this process.
public final class SwarmHarness: @unchecked Sendable {
    public let root: URL
    public private(set) var tracker: TrackerServer!
    private var tasks: [Task<Void, Never>] = []
    private var trackerTask: Task<Void, Never>?
    private var sessions: [Session] = []

    public init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-swarm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    public func startTracker(interval: Int = 2, udp: Bool = false) async throws {
        tracker = try await TrackerServer.start(bind: "127.0.0.1", httpPort: 0, udpPort: udp ? 0 : nil, interval: interval)
        let server = tracker!
        trackerTask = Task { await server.run() }
    }

    /// Deterministic pseudo-random bytes.
    public static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }

    /// Writes files under `directory/name` (or a single file `directory/name`) and returns the torrent.
    public func makeTorrent(name: String, files: [(path: String, size: Int)]?, singleSize: Int = 0, pieceLength: Int,
                     in directory: URL, seed: UInt64 = 1, trackers: [[String]]? = nil,
                     version: MetainfoBuilder.MetaVersion = .v1) throws -> Metainfo {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        let target = directory.appendingPathComponent(name)
        if let files {
            for (index, file) in files.enumerated() {
                let url = target.appendingPathComponent(file.path)
                try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(Self.bytes(file.size, seed: seed + UInt64(index))).write(to: url)
            }
        } else {
            try Data(Self.bytes(singleSize, seed: seed)).write(to: target)
        }
        // As `shoal create` (with --v2 or --hybrid) makes them.
        let layout = try ContentScanner.scan(target.path)
        var builder = try TorrentHashing.builder(layout, pieceLength: pieceLength, version: version, threads: 2)
        builder.trackerTiers = trackers ?? [[tracker.announceURL]]
        return try Metainfo(bytes: builder.encoded())
    }

    public func startSession(_ name: String, configure: (inout EngineConfig) -> Void = { _ in }) async throws -> Session {
        try await startSession(name, configure: configure) { try await Session.start($0) }
    }

    /// The same, started by `start` (a test that gives the session something of its own).
    public func startSession(_ name: String, configure: (inout EngineConfig) -> Void = { _ in },
                             start: (EngineConfig) async throws -> Session) async throws -> Session {
        let directory = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var config = EngineConfig(downloadDirectory: directory.path, listenPort: 0, bindAddress: "127.0.0.1",
                                  minimumAnnounceInterval: .seconds(1), trackerTimeout: .seconds(5),
                                  udpTrackerRetry: .init(firstTimeout: .milliseconds(500), attempts: 2))
        configure(&config)
        let session = try await start(config)
        sessions.append(session)
        tasks.append(Task { await session.run() })
        return session
    }

    /// Polls until `condition` holds for every session's snapshot, or the time runs out.
    public func waitUntil(timeout: Duration = .seconds(60), _ condition: @Sendable () async -> Bool) async -> Bool {
        await Self.poll(timeout: timeout, condition)
    }

    /// Polls `condition` every 100 ms until it holds or the time runs out; its last answer.
    public static func poll(timeout: Duration = .seconds(60), _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return await condition()
    }

    /// Stops the sessions and waits for them to end before the tracker stops, so no announce
    /// reaches a closing tracker.
    public func stopAll() async {
        for session in sessions { await session.shutdown() }
        for task in tasks { await task.value }
        await tracker?.shutdown()
        await trackerTask?.value
    }

    /// True if two files, or two directory trees, hold the same bytes.
    public static func sameContents(_ a: URL, _ b: URL) -> Bool {
        FileManager.default.contentsEqual(atPath: a.path, andPath: b.path)
    }
}
