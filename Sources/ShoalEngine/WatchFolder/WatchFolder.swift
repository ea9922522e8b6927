import Foundation
import ShoalCore

/// Autoloads .torrent files (and .magnet files holding a magnet link) dropped into a directory.
///
/// A file is taken once its size has stayed the same for one scan (so a half-written file is
/// never read) and it parses; then it is added and renamed `NAME.torrent.added` (or deleted, or
/// left, as configured). A file that does not parse once stable is renamed `.invalid`, and the
/// reason is reported. The directory is scanned when inotify reports a change and, for network
/// filesystems where inotify is silent, every few seconds anyway.
public struct WatchFolder: Sendable {
    public enum AfterAdding: String, Sendable, CaseIterable {
        case rename, delete, keep
    }

    public struct Event: Sendable, Equatable {
        public var file: String
        /// nil when added; otherwise why not.
        public var problem: String?
    }

    public let directory: String
    public let afterAdding: AfterAdding
    public let pollInterval: Duration

    public init(directory: String, afterAdding: AfterAdding = .rename, pollInterval: Duration = .seconds(3)) {
        self.directory = directory
        self.afterAdding = afterAdding
        self.pollInterval = pollInterval
    }

    /// One scanning pass's memory: sizes seen last time, and files already handled (for `keep`).
    public struct Scanner: Sendable {
        var sizes: [String: Int64] = [:]
        var handled: Set<String> = []

        public init() {}

        /// Files whose size is unchanged since the previous scan and not yet handled.
        public mutating func stableFiles(in directory: String) -> [String] {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
                .filter { ($0.lowercased().hasSuffix(".torrent") || $0.lowercased().hasSuffix(".magnet")) && !$0.hasPrefix(".") }.sorted()
            var stable: [String] = []
            var current: [String: Int64] = [:]
            for name in names where !handled.contains(name) {
                var info = stat()
                guard stat(directory + "/" + name, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
                let size = Int64(info.st_size)
                current[name] = size
                if let previous = sizes[name], previous == size, size > 0 { stable.append(name) }
            }
            sizes = current
            return stable
        }

        mutating func markHandled(_ name: String) {
            handled.insert(name)
            sizes[name] = nil
        }
    }

    /// Torrents added together, saved with one group commit (see `Session.add(batch:)`).
    static let batchSize = 256

    /// Runs until cancelled, adding to `session` and reporting each outcome.
    public func run(session: Session, report: @escaping @Sendable (Event) async -> Void) async {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var scanner = Scanner()
        let changes = InotifyWatch(directory: directory)
        defer { changes?.close() }
        while !Task.isCancelled {
            let stable = scanner.stableFiles(in: directory)
            for start in stride(from: 0, to: stable.count, by: Self.batchSize) {
                for event in await take(Array(stable[start..<min(stable.count, start + Self.batchSize)]), session: session) {
                    scanner.markHandled(event.file)
                    await report(event)
                }
            }
            // A change seen by inotify brings the next scan forward; the stability check needs
            // a second look anyway, so wait briefly even then.
            if let changes {
                await changes.waitForChange(upTo: pollInterval)
                try? await Task.sleep(for: .milliseconds(300))
            } else {
                try? await Task.sleep(for: pollInterval)
            }
        }
    }

    /// Reads, checks and adds a batch of files: magnets one by one, torrents all together.
    private func take(_ names: [String], session: Session) async -> [Event] {
        var events: [Event] = []
        var torrents: [(name: String, metainfo: Metainfo)] = []
        for name in names {
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else {
                events.append(Event(file: name, problem: "cannot read it"))
                continue
            }
            if name.lowercased().hasSuffix(".magnet") {
                events.append(await takeMagnet(name, data, session: session))
                continue
            }
            do {
                torrents.append((name, try Metainfo(bytes: Array(data))))
            } catch {
                _ = rename(path, path + ".invalid")
                events.append(Event(file: name, problem: "invalid torrent: \(error.description) (renamed .invalid)"))
            }
        }
        let results = await session.add(batch: torrents.map(\.metainfo))
        for (torrent, result) in zip(torrents, results) {
            switch result {
            case .success:
                events.append(added(torrent.name))
            case .failure(Session.SessionError.duplicate):
                events.append(added(torrent.name))  // the same torrent twice is added once
            case .failure(let error):
                events.append(Event(file: torrent.name, problem: "\(error)"))
            }
        }
        return events
    }

    private func takeMagnet(_ name: String, _ data: Data, session: Session) async -> Event {
        let path = directory + "/" + name
        // A .magnet file holds one magnet URI (surrounding whitespace allowed).
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let magnet: MagnetLink
        do {
            magnet = try MagnetLink(parsing: text)
        } catch {
            _ = rename(path, path + ".invalid")
            return Event(file: name, problem: "invalid magnet link: \(error.description) (renamed .invalid)")
        }
        do {
            try await session.add(magnet: magnet)
        } catch Session.SessionError.duplicate {
            // the same magnet twice is added once
        } catch {
            return Event(file: name, problem: "\(error)")
        }
        return added(name)
    }

    /// The file is in the session: renamed, deleted or left as configured.
    private func added(_ name: String) -> Event {
        let path = directory + "/" + name
        switch afterAdding {
        case .rename: _ = rename(path, path + ".added")
        case .delete: unlink(path)
        case .keep: break
        }
        return Event(file: name, problem: nil)
    }
}
