import Foundation
import ShoalCore

/// `torrent-get`, `torrent-add`, `torrent-set` and `torrent-set-location`.
extension TransmissionRPC {
    func torrentGet(_ arguments: [String: JSONValue]) async throws -> [String: JSONValue] {
        let selection = try Self.selection(arguments["ids"])
        let fields = arguments["fields"]?.array?.compactMap(\.string) ?? TorrentFields.defaultFields
        let numbered = await numberedSnapshot(detailed: detailed(for: fields, selection))
        var context = TorrentFields.Context()
        context.sessionSeedRatio = await session.sessionSettings.seedRatio
        context.peerLimitPerTorrent = await session.peerLimitPerTorrent
        // A table of 10,000 built on every call: only when asked for.
        if fields.contains(TorrentField.queuePosition.rawValue) {
            for (position, entry) in numbered.enumerated() { context.queuePositions[entry.torrent.id] = position }
        }
        let chosen = select(selection, from: numbered)
        var out: [String: JSONValue] = [:]
        // Transmission 4's "table" format: a header row of field names, then one array per torrent.
        if arguments["format"]?.string == "table" {
            var rows: [JSONValue] = [.array(fields.map(JSONValue.string))]
            for item in chosen {
                rows.append(.array(fields.map { name in
                    TorrentField(rawValue: name).map { TorrentFields.value($0, item.torrent, id: item.id, context: context) } ?? .null
                }))
            }
            out["torrents"] = .array(rows)
        } else {
            out["torrents"] = .raw(writeRows(chosen, fields: fields, context: context))
        }
        if case .recentlyActive = selection { out["removed"] = .array(removals.map { .int($0.id) }) }
        return out
    }

    /// The rows as JSON text, members in the order asked, each name once. A resting torrent's
    /// row is written once and then copied while it stays the same (see `TorrentRowCache`).
    private func writeRows(_ chosen: [Numbered], fields: [String], context: TorrentFields.Context) -> [UInt8] {
        var seen = Set<String>()
        let columns = TorrentFields.columns(fields.filter { seen.insert($0).inserted })
        let place = columns.allSatisfy(\.field.followsSnapshot) ? rows.place(for: columns.map(\.field)) : nil
        var text: [UInt8] = [UInt8(ascii: "[")]
        text.reserveCapacity(chosen.count * columns.count * 24)
        for item in chosen {
            if text.count > 1 { text.append(UInt8(ascii: ",")) }
            guard let place, item.shared.resting else {
                TorrentFields.write(item.torrent, id: item.id, columns: columns, context: context, into: &text)
                continue
            }
            if let row = rows.row(place: place, id: item.id, source: item.shared) {
                text += row
            } else {
                let start = text.count
                TorrentFields.write(item.torrent, id: item.id, columns: columns, context: context, into: &text)
                rows.keep(Array(text[start...]), place: place, id: item.id, source: item.shared)
            }
        }
        text.append(UInt8(ascii: "]"))
        return text
    }

    func torrentAdd(_ arguments: [String: JSONValue]) async throws -> [String: JSONValue] {
        let directory = arguments["download-dir"]?.string
        if let directory, !directory.hasPrefix("/") { throw MethodError("download-dir: must be an absolute path") }
        let startAdded = await session.startAddedTorrents
        let paused = arguments["paused"]?.bool ?? !startAdded
        let source = try await addSource(arguments)
        let hash: InfoHash
        let name = source.name
        do {
            switch source {
            case .torrent(let metainfo):
                let visible = metainfo.info.files.filter { !$0.isPadding }.count
                let priorities = try Self.addPriorities(arguments, fileCount: visible)
                hash = try await session.add(metainfo, downloadDirectory: directory, paused: paused, filePriorities: priorities)
            case .magnet(let magnet):
                hash = try await session.add(magnet: magnet, downloadDirectory: directory, paused: paused)
            }
        } catch Session.SessionError.duplicate {
            // Numbered without a snapshot of the whole session: an add costs the same at 10,000 torrents.
            let hash = source.infoHash
            return ["torrent-duplicate": ["id": .int(id(for: hash)), "name": .string(source.name), "hashString": .string(hash.hex)]]
        }
        if let labels = try Self.labels(arguments["labels"]), !labels.isEmpty { try await session.setLabels(hash, labels) }
        return ["torrent-added": ["id": .int(id(for: hash)), "name": .string(name), "hashString": .string(hash.hex)]]
    }

    /// `metainfo` (base64 .torrent bytes) or `filename` (a path on the daemon's machine, an
    /// http URL, or a magnet link).
    func addSource(_ arguments: [String: JSONValue]) async throws -> TorrentSource {
        let bytes: [UInt8]
        if let encoded = arguments["metainfo"]?.string {
            guard let data = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters) else {
                throw MethodError("invalid or corrupt torrent file: metainfo is not base64")
            }
            bytes = Array(data)
        } else if let filename = arguments["filename"]?.string?.trimmingCharacters(in: .whitespacesAndNewlines) {
            if filename.lowercased().hasPrefix("magnet:") {
                do {
                    return .magnet(try MagnetLink(parsing: filename))
                } catch {
                    throw MethodError("invalid magnet link: \(error.description)")
                }
            }
            let lower = filename.lowercased()
            if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
                do {
                    bytes = try await fetch(filename)
                } catch {
                    throw MethodError("cannot fetch \(filename): \(error)")
                }
            } else {
                guard let data = FileManager.default.contents(atPath: (filename as NSString).expandingTildeInPath) else {
                    throw MethodError("\(filename): cannot read the file (\(String(cString: strerror(errno))))")
                }
                bytes = Array(data)
            }
        } else {
            throw MethodError("no filename or metainfo specified")
        }
        do {
            return .torrent(try Metainfo(bytes: bytes))
        } catch {
            throw MethodError("invalid or corrupt torrent file: \(error)")
        }
    }

    /// A new torrent's file priorities from `files-wanted`/`-unwanted` and `priority-*`; nil when none is named.
    static func addPriorities(_ arguments: [String: JSONValue], fileCount: Int) throws -> [FilePriority]? {
        let keys = ["files-wanted", "files-unwanted", "priority-high", "priority-low", "priority-normal"]
        guard keys.contains(where: { arguments[$0] != nil }) else { return nil }
        return try applyFileSettings(arguments, to: [FilePriority](repeating: .normal, count: fileCount))
    }

    /// Applies `files-wanted`, `files-unwanted` and `priority-*` (lists of file indices; an
    /// empty list means every file, as in Transmission) to `priorities`.
    static func applyFileSettings(_ arguments: [String: JSONValue], to current: [FilePriority]) throws -> [FilePriority] {
        var priorities = current
        var wanted = current.map { $0 != .skip }
        // A skipped file comes back at normal: Shoal keeps no level for a file it skips.
        var level = current.map { $0 == .skip ? FilePriority.normal : $0 }
        func indices(_ key: String) throws -> [Int]? {
            guard let value = arguments[key] else { return nil }
            guard let items = value.array else { throw MethodError("\(key): expected a list of file indices") }
            if items.isEmpty { return Array(current.indices) }
            return try items.map { item in
                guard let index = item.int, current.indices.contains(index) else {
                    throw MethodError("\(key): \(JSONWriter.string(item)) is not a file index (0..<\(current.count))")
                }
                return index
            }
        }
        for index in try indices("files-wanted") ?? [] { wanted[index] = true }
        for index in try indices("files-unwanted") ?? [] { wanted[index] = false }
        for (key, value) in [("priority-high", FilePriority.high), ("priority-normal", .normal), ("priority-low", .low)] {
            for index in try indices(key) ?? [] { level[index] = value }
        }
        for index in priorities.indices { priorities[index] = wanted[index] ? level[index] : .skip }
        return priorities
    }

    /// Transmission's labels: strings without commas.
    static func labels(_ value: JSONValue?) throws -> [String]? {
        guard let value else { return nil }
        guard let items = value.array else { throw MethodError("labels: expected a list of strings") }
        return try items.map { item in
            guard let text = item.string, !text.contains(","), !text.isEmpty else { throw MethodError("labels: each must be a non-empty string without commas") }
            return text.trimmingCharacters(in: .whitespaces)
        }
    }

    func torrentSet(_ arguments: [String: JSONValue]) async throws -> [String: JSONValue] {
        let unsupported = ["bandwidthPriority", "queuePosition", "seedIdleLimit", "seedIdleMode", "group",
                           "honorsSessionLimits"]
            .filter { arguments[$0] != nil }
        // Keys a remote sends with their defaults on every change (stig, Transmission's web UI) pass.
        let harmless = unsupported.filter { key in
            (key == "honorsSessionLimits" && arguments[key]?.bool == true) || (key == "bandwidthPriority" && arguments[key]?.int == 0)
        }
        let refused = unsupported.filter { !harmless.contains($0) }
        guard refused.isEmpty else { throw MethodError("\(refused.joined(separator: ", ")): not supported by Shoal") }
        let labels = try Self.labels(arguments["labels"])
        let ratioMode = arguments["seedRatioMode"]?.int
        if let ratioMode, !(0...2).contains(ratioMode) { throw MethodError("seedRatioMode: expected 0, 1 or 2") }
        let ratio = arguments["seedRatioLimit"]?.double
        if let ratio, ratio < 0 { throw MethodError("seedRatioLimit: must be 0 or more") }
        let downLimit = try speedValue(arguments, "downloadLimit")
        let upLimit = try speedValue(arguments, "uploadLimit")
        let fileKeys = ["files-wanted", "files-unwanted", "priority-high", "priority-low", "priority-normal"]
        let peerLimit = try Self.number(arguments, "peer-limit", in: 1...65535)
        let location = arguments["location"]?.string
        if let location, !location.hasPrefix("/") { throw MethodError("location: must be an absolute path") }
        let numbered = await numberedSnapshot()
        for torrent in select(try Self.selection(arguments["ids"]), from: numbered).map(\.torrent) {
            let hash = torrent.id
            do {
                if fileKeys.contains(where: { arguments[$0] != nil }) {
                    guard !torrent.files.isEmpty else { throw MethodError("\(torrent.name): no files yet (metadata still coming)") }
                    try await session.setFilePriorities(hash, try Self.applyFileSettings(arguments, to: torrent.files.map(\.priority)))
                }
                if downLimit != nil || upLimit != nil || arguments["downloadLimited"] != nil || arguments["uploadLimited"] != nil {
                    let down = Self.limit(value: downLimit, limited: arguments["downloadLimited"]?.bool, current: torrent.details.downloadLimit)
                    let up = Self.limit(value: upLimit, limited: arguments["uploadLimited"]?.bool, current: torrent.details.uploadLimit)
                    try await session.setTorrentLimits(hash, upload: up, download: down)
                }
                if ratioMode != nil || ratio != nil {
                    var own: Double?
                    if case .own(let current) = torrent.details.seedRatio { own = current }
                    let goal: SeedRatioGoal
                    switch ratioMode {
                    case 0: goal = .session
                    case 2: goal = .unlimited
                    // Mode 1, or a limit alone (taken to mean "this torrent's own").
                    default: goal = .own(ratio ?? own ?? session.config.seedRatioLimit ?? 2)
                    }
                    try await session.setSeedRatioGoal(hash, goal)
                }
                if let labels { try await session.setLabels(hash, labels) }
                if let peerLimit { try await session.setPeerLimit(hash, peerLimit) }
                if let sequential = arguments["sequentialDownload"]?.bool { try await session.setSequential(hash, sequential) }
                if let tiers = try Self.editedTrackers(arguments, current: torrent.trackers) { try await session.setTrackers(hash, tiers) }
                if let location { try await session.setLocation(hash, directory: location, move: false) }
            } catch let error as MethodError {
                throw error
            } catch {
                throw MethodError("\(torrent.name): \(error)")
            }
        }
        return [:]
    }

    /// A per-torrent cap in bytes per second from Transmission's KiB value and its "limited" switch.
    static func limit(value: Int?, limited: Bool?, current: Int) -> Int {
        if limited == false { return 0 }
        if let value { return value * TransmissionRPC.speedUnit }
        return current
    }

    func torrentSetLocation(_ arguments: [String: JSONValue]) async throws -> [String: JSONValue] {
        guard let location = arguments["location"]?.string else { throw MethodError("torrent-set-location: missing 'location'") }
        guard location.hasPrefix("/") else { throw MethodError("location: must be an absolute path") }
        let move = arguments["move"]?.bool ?? false
        let numbered = await numberedSnapshot()
        for torrent in select(try Self.selection(arguments["ids"]), from: numbered).map(\.torrent) {
            do {
                // A move can take minutes: it goes on in the background, as Transmission's does;
                // `torrent-get` shows the torrent stopped meanwhile and the data at the new place after.
                if move {
                    try await session.startMove(torrent.id, directory: location)
                } else {
                    try await session.setLocation(torrent.id, directory: location, move: false)
                }
            } catch {
                throw MethodError("\(torrent.name): \(error)")
            }
        }
        return [:]
    }
}
