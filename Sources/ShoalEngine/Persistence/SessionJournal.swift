import Foundation

/// The session file's changes since it was last written whole, so a change costs one appended
/// line, not a rewrite of every torrent's record (with 10,000 torrents `session.json` is 3 MB,
/// and every add, pause or label rewrote it).
///
/// Each line is one JSON record: a torrent's whole record (added or changed), a removal, or the
/// session's settings. Journals are numbered: `session.json` says which journal follows it, and
/// writing it whole starts the next number first, so a crash at any moment leaves a file and the
/// journals after it that together say everything. A torn last line (a crash mid-append) is
/// dropped; a damaged line elsewhere is reported and skipped, and the rest still applies.
enum SessionJournal {
    enum Record: Codable, Equatable {
        case put(SessionStore.Entry)
        case remove(infoHash: String)
        case settings(limits: SessionStore.Limits?, remote: SessionStore.RemoteSettings?)
    }

    static func path(_ directory: String, generation: Int) -> String { directory + "/session.journal.\(generation)" }

    /// The generations of the journals in `directory`, oldest first.
    static func generations(in directory: String) -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name in
            guard name.hasPrefix("session.journal.") else { return nil }
            return Int(name.dropFirst("session.journal.".count))
        }.sorted()
    }

    /// The records of one journal and what could not be read.
    static func read(_ path: String) -> (records: [Record], problems: [String]) {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return ([], []) }
        var records: [Record] = []
        var problems: [String] = []
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let decoder = JSONDecoder()
        for (index, line) in lines.enumerated() where !line.isEmpty {
            do {
                records.append(try decoder.decode(Record.self, from: Data(line)))
            } catch {
                // The last line without its newline was being written when the process died.
                let torn = index == lines.count - 1 && data.last != UInt8(ascii: "\n")
                if !torn { problems.append("\(path): line \(index + 1) is damaged and was skipped") }
            }
        }
        return (records, problems)
    }

    /// Applies records in order to the torrents and settings they follow.
    static func apply(_ records: [Record], to torrents: inout [SessionStore.Entry], limits: inout SessionStore.Limits?,
                      remote: inout SessionStore.RemoteSettings?) {
        var position = Dictionary(torrents.enumerated().map { ($1.infoHash, $0) }, uniquingKeysWith: { first, _ in first })
        var removed = Set<Int>()
        for record in records {
            switch record {
            case .put(let entry):
                if let index = position[entry.infoHash], !removed.contains(index) {
                    torrents[index] = entry
                } else {
                    position[entry.infoHash] = torrents.count
                    torrents.append(entry)
                }
            case .remove(let hash):
                if let index = position[hash] { removed.insert(index) }
                position[hash] = nil
            case .settings(let newLimits, let newRemote):
                limits = newLimits
                remote = newRemote
            }
        }
        if !removed.isEmpty { torrents = torrents.enumerated().filter { !removed.contains($0.offset) }.map(\.element) }
    }

    /// Appends one line per record and syncs them once: the changes are on disk when this
    /// returns. A failed append is cut off again, so the next one starts a line of its own.
    static func append(_ records: [Record], to path: String) throws {
        let encoder = JSONEncoder()
        var line = Data()
        for record in records {
            line.append(try encoder.encode(record))
            line.append(UInt8(ascii: "\n"))
        }
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw StorageError("\(path): cannot append: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var status = stat()
        let size = fstat(fd, &status) == 0 ? status.st_size : 0
        // A torn line left by a crash would swallow this one: end it first.
        var last: UInt8 = 0
        if size > 0, pread(fd, &last, 1, size - 1) == 1, last != UInt8(ascii: "\n") { line.insert(UInt8(ascii: "\n"), at: 0) }
        var failure = line.withUnsafeBytes { AtomicFile.writeAll(fd, $0) }
        if failure == nil && fdatasync(fd) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            _ = ftruncate(fd, size)
            throw StorageError("\(path): cannot append: \(failure)")
        }
    }
}
