import Foundation

/// Reads `session.json` in the shape Shoal writes it, the torrents' records by hand and the
/// small settings objects through `JSONDecoder`: at 100,000 torrents the decoder took 1.3 s
/// of a start, before anything else could begin. A field it does not know, a value of another
/// type or anything malformed gives nil, and the store falls back to the decoder (which
/// decides whether the file is readable at all): a shortcut, never the only reader.
enum SessionFileReader {
    static func read(_ bytes: [UInt8]) -> SessionStore.Document? {
        var scanner = JSONScanner(bytes)
        var version: Int?, torrents: [SessionStore.Entry]?, limits: SessionStore.Limits?, remote: SessionStore.RemoteSettings?,
            journal: Int?
        let whole = scanner.object { scanner, key in
            switch key {
            case "version" where version == nil: version = scanner.int()
            case "torrents" where torrents == nil: torrents = entries(&scanner)
            case "limits" where limits == nil: limits = decoded(&scanner)
            case "remote" where remote == nil: remote = decoded(&scanner)
            case "journal" where journal == nil: journal = scanner.int()
            default: return false
            }
            return true
        }
        guard whole, scanner.atEnd, version == 1, let torrents else { return nil }
        return SessionStore.Document(version: 1, torrents: torrents, limits: limits, remote: remote, journal: journal)
    }

    /// A small value read by the decoder from its own bytes (nil: `null`, or not readable).
    private static func decoded<Value: Decodable>(_ scanner: inout JSONScanner) -> Value? {
        if scanner.null() { return nil }
        guard let raw = scanner.rawValue() else { return nil }
        return try? JSONDecoder().decode(Value.self, from: Data(raw))
    }

    private static func entries(_ scanner: inout JSONScanner) -> [SessionStore.Entry]? { scanner.list { entry(&$0) } }

    /// The record's fields, a bit each: a field written twice is left to the decoder.
    private static let fields: [StaticString] = [
        "infoHash", "downloadDirectory", "paused", "seedWhenDone", "filePriorities", "added", "completed", "uploaded",
        "downloaded", "uploadLimit", "downloadLimit", "magnet", "labels", "seedRatio", "trackers", "sequential", "activity",
        "peerLimit",
    ]

    private static func entry(_ scanner: inout JSONScanner) -> SessionStore.Entry? {
        var infoHash: String?, directory: String?, paused: Bool?, seedWhenDone: Bool?, priorities: [Int]?, added: Double?,
            completed: Double?, uploaded: Int64?, downloaded: Int64?, uploadLimit: Int?, downloadLimit: Int?, magnet: String?,
            labels: [String]?, seedRatio: SeedRatioGoal?, trackers: [[String]]?, sequential: Bool?, activity: Double?,
            peerLimit: Int?
        var seen: UInt32 = 0
        let whole = scanner.object { scanner, key in
            guard let field = fields.firstIndex(where: { key == $0 }), seen & 1 << field == 0 else { return false }
            seen |= 1 << field
            switch field {
            case 0: return read(&scanner, into: &infoHash) { $0.string() }
            case 1: return read(&scanner, into: &directory) { $0.string() }
            case 2: return read(&scanner, into: &paused) { $0.bool() }
            case 3: return read(&scanner, into: &seedWhenDone) { $0.bool() }
            case 4: return read(&scanner, into: &priorities) { $0.list { $0.int() } }
            case 5: return read(&scanner, into: &added) { $0.double() }
            case 6: return read(&scanner, into: &completed, orNull: true) { $0.double() }
            case 7: return read(&scanner, into: &uploaded) { $0.integer() }
            case 8: return read(&scanner, into: &downloaded) { $0.integer() }
            case 9: return read(&scanner, into: &uploadLimit, orNull: true) { $0.int() }
            case 10: return read(&scanner, into: &downloadLimit, orNull: true) { $0.int() }
            case 11: return read(&scanner, into: &magnet, orNull: true) { $0.string() }
            case 12: return read(&scanner, into: &labels, orNull: true) { $0.list { $0.string() } }
            case 13: return read(&scanner, into: &seedRatio, orNull: true) { ratioGoal(&$0) }
            case 14: return read(&scanner, into: &trackers, orNull: true) { $0.list { $0.list { $0.string() } } }
            case 15: return read(&scanner, into: &sequential, orNull: true) { $0.bool() }
            case 16: return read(&scanner, into: &activity, orNull: true) { $0.double() }
            default: return read(&scanner, into: &peerLimit, orNull: true) { $0.int() }
            }
        }
        guard whole, let infoHash, let directory, let paused, let seedWhenDone, let priorities, let added, let uploaded,
              let downloaded
        else { return nil }
        return SessionStore.Entry(
            infoHash: infoHash, downloadDirectory: directory, paused: paused, seedWhenDone: seedWhenDone, filePriorities: priorities,
            added: Date(timeIntervalSinceReferenceDate: added), completed: completed.map(Date.init(timeIntervalSinceReferenceDate:)),
            uploaded: uploaded, downloaded: downloaded, uploadLimit: uploadLimit, downloadLimit: downloadLimit, magnet: magnet,
            labels: labels, seedRatio: seedRatio, trackers: trackers, sequential: sequential,
            activity: activity.map(Date.init(timeIntervalSinceReferenceDate:)), peerLimit: peerLimit)
    }

    /// One field's value into `slot`; `orNull`: an optional field, which may be written as null.
    /// False when the value is not one the field takes.
    private static func read<Value>(_ scanner: inout JSONScanner, into slot: inout Value?, orNull: Bool = false,
                                    _ value: (inout JSONScanner) -> Value?) -> Bool {
        if orNull, scanner.null() { return true }
        slot = value(&scanner)
        return slot != nil
    }

    /// The encoder's form of the enum: `{"session":{}}`, `{"unlimited":{}}`, `{"own":{"_0":2}}`.
    private static func ratioGoal(_ scanner: inout JSONScanner) -> SeedRatioGoal? {
        var goal: SeedRatioGoal?
        let whole = scanner.object { scanner, key in
            guard goal == nil else { return false }
            var ratio: Double?
            let payload = scanner.object { scanner, key in
                guard key == "_0", ratio == nil else { return false }
                ratio = scanner.double()
                return ratio != nil
            }
            if key == "session", ratio == nil {
                goal = .session
            } else if key == "unlimited", ratio == nil {
                goal = .unlimited
            } else if key == "own", let ratio {
                goal = .own(ratio)
            } else {
                return false
            }
            return payload
        }
        return whole ? goal : nil
    }
}
