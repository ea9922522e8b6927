import Foundation
import ShoalCore

/// Transmission's RPC (the version Transmission 3 and 4 remotes speak) over a `Session`: a
/// request body in, a response body out. The HTTP side (`RPCServer`) only checks access and
/// carries bytes; everything a method means is here.
///
/// Torrents get small integer ids, stable for the daemon's life, in the order they appear, as
/// Transmission numbers them; a removed torrent's id is never reused.
public actor TransmissionRPC {
    /// Transmission 4.0's RPC version; 14 is the oldest whose requests we answer the same way.
    public static let rpcVersion = 17
    public static let rpcVersionMinimum = 14
    /// Remotes (Sonarr, stig) parse a Transmission version from this; Shoal's follows.
    public static let versionString = "4.0.6 (Shoal \(ShoalVersion.string))"
    /// Speeds go over the RPC in kB/s of 1,000 bytes, as transmission-daemon counts them (and
    /// says in `session-get`'s `units`).
    public static let speedUnit = 1000

    let session: Session
    /// The `X-Transmission-Session-Id` the server hands out (`session-get` tells it too).
    let sessionID: String
    /// Fetches a `torrent-add` URL's body (an HTTP GET at the edge).
    let fetch: @Sendable (String) async throws -> [UInt8]
    /// `session-close`: the daemon shuts down.
    let close: @Sendable () async -> Void

    var ids: [InfoHash: Int] = [:]
    var hashes: [Int: InfoHash] = [:]
    var nextID = 1
    /// Recently removed torrents' ids, for `recently-active`'s `removed` list.
    var removals: [(id: Int, at: Date)] = []
    /// Rows of `torrent-get` written for resting torrents, kept while they stay the same.
    var rows = TorrentRowCache()
    /// What `speed-limit-*` was before it was turned off, so turning it on again restores it (KiB/s).
    var rememberedLimits = (upload: 100, download: 100)
    let started = Date()
    var startTotals: (uploaded: Int64, downloaded: Int64)?

    public init(session: Session, sessionID: String, fetch: @escaping @Sendable (String) async throws -> [UInt8],
                close: @escaping @Sendable () async -> Void) {
        self.session = session
        self.sessionID = sessionID
        self.fetch = fetch
        self.close = close
    }

    /// A method's failure, reported as the response's `result` (HTTP 200, as Transmission does).
    struct MethodError: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    /// What the server sends back: an HTTP status and a JSON body.
    public struct Reply: Sendable {
        public var status: Int
        public var body: [UInt8]
    }

    public func handle(_ body: [UInt8]) async -> Reply {
        let request: JSONValue
        do {
            request = try JSONParser.parse(body)
        } catch {
            return Reply(status: 400, body: JSONWriter.bytes(["result": .string(error.description)]))
        }
        let tag = request["tag"]
        var response: [String: JSONValue] = [:]
        if let tag, tag.int != nil { response["tag"] = tag }
        guard let method = request["method"]?.string else {
            response["result"] = "no method name"
            return Reply(status: 200, body: JSONWriter.bytes(.object(response)))
        }
        let arguments = request["arguments"]?.object ?? [:]
        do {
            response["arguments"] = .object(try await perform(method, arguments))
            response["result"] = "success"
        } catch let error as MethodError {
            response["result"] = .string(error.message)
            response["arguments"] = .object([:])
        } catch {
            response["result"] = .string("\(error)")
            response["arguments"] = .object([:])
        }
        return Reply(status: 200, body: JSONWriter.bytes(.object(response)))
    }

    func perform(_ method: String, _ arguments: [String: JSONValue]) async throws -> [String: JSONValue] {
        switch method {
        case "session-get": return try await sessionGet(arguments)
        case "session-set": return try await sessionSet(arguments)
        case "session-stats": return await sessionStats()
        case "session-close":
            Task { await close() }
            return [:]
        case "free-space": return try freeSpace(arguments)
        case "torrent-get": return try await torrentGet(arguments)
        case "torrent-add": return try await torrentAdd(arguments)
        case "torrent-start", "torrent-start-now": return try await act(arguments) { try await $0.resume($1) }
        case "torrent-stop": return try await act(arguments) { try await $0.pause($1) }
        case "torrent-verify": return try await act(arguments) { try await $0.verify($1) }
        case "torrent-reannounce": return try await act(arguments) { try await $0.reannounce($1) }
        case "queue-move-top": return try await act(arguments) { try await $0.moveInQueue($1, .top) }
        case "queue-move-up": return try await act(arguments) { try await $0.moveInQueue($1, .up) }
        case "queue-move-down": return try await act(arguments) { try await $0.moveInQueue($1, .down) }
        case "queue-move-bottom": return try await act(arguments) { try await $0.moveInQueue($1, .bottom) }
        case "torrent-remove":
            let delete = arguments["delete-local-data"]?.bool ?? false
            return try await act(arguments) { try await $0.remove($1, deleteData: delete) }
        case "torrent-set": return try await torrentSet(arguments)
        case "torrent-set-location": return try await torrentSetLocation(arguments)
        case "shoal-session": return await shoalSession(arguments)
        case "shoal-set-seeding":
            let seed = arguments["seed"]?.bool ?? true
            return try await act(arguments) { try await $0.setSeeding($1, seed) }
        case "shoal-set-limits": return try await shoalSetLimits(arguments)
        case "shoal-close-peer": return try await shoalClosePeer(arguments)
        case "torrent-rename-path", "port-test", "blocklist-update", "group-set", "group-get":
            throw MethodError("\(method) is not supported by Shoal")
        default:
            throw MethodError("method name not recognized")
        }
    }

    // MARK: - Ids

    /// A torrent's snapshot with its id.
    struct Numbered {
        let id: Int
        let shared: SharedSnapshot
        var torrent: TorrentSnapshot { shared.snapshot }
    }

    /// The session's torrents now, every one numbered, by reference (a resting torrent's
    /// snapshot is the same object from call to call: see `TorrentRowCache`); ids of torrents
    /// gone are noted as removed. `detailed` as in `Session.snapshot(detailed:)`: nil, every
    /// torrent with its files and pieces.
    func numberedSnapshot(detailed: Set<InfoHash>? = nil) async -> [Numbered] {
        let shared = await session.sharedSnapshots(detailed: detailed)
        var numbered: [Numbered] = []
        numbered.reserveCapacity(shared.count)
        for torrent in shared { numbered.append(Numbered(id: id(for: torrent.snapshot.id), shared: torrent)) }
        // Every torrent here has an id now: more ids than torrents means some went.
        let now = Date()
        if ids.count != shared.count {
            let present = Set(shared.map(\.snapshot.id))
            for (hash, id) in ids where !present.contains(hash) {
                ids[hash] = nil
                hashes[id] = nil
                rows.forget(id: id)
                removals.append((id, now))
            }
        }
        removals.removeAll { now.timeIntervalSince($0.at) > 60 }
        if startTotals == nil {
            startTotals = (shared.reduce(0) { $0 + $1.snapshot.uploaded }, shared.reduce(0) { $0 + $1.snapshot.downloaded })
        }
        return numbered
    }

    /// The torrent's id, given now if it has none yet.
    func id(for hash: InfoHash) -> Int {
        if let known = ids[hash] { return known }
        let id = nextID
        nextID += 1
        ids[hash] = id
        hashes[id] = hash
        return id
    }

    /// Which torrents `ids` names: absent for all; a number, a hash, or a list of either; or
    /// `"recently-active"` (changed within the last minute).
    enum Selection {
        case all
        case recentlyActive
        case some(ids: Set<Int>, hashes: Set<String>)
    }

    static func selection(_ value: JSONValue?) throws -> Selection {
        guard let value else { return .all }
        if value.string == "recently-active" { return .recentlyActive }
        let items = value.array ?? [value]
        var ids = Set<Int>()
        var hashes = Set<String>()
        for item in items {
            if let id = item.int {
                ids.insert(id)
            } else if let text = item.string, text.count == 40, text.allSatisfy(\.isHexDigit) {
                hashes.insert(text.lowercased())
            } else if let text = item.string, let id = Int(text) {
                ids.insert(id)
            } else {
                throw MethodError("invalid id \(JSONWriter.string(item))")
            }
        }
        return .some(ids: ids, hashes: hashes)
    }

    /// The torrents whose files and pieces `torrent-get` must read for these fields: none for a
    /// list's fields (what `transmission-remote -l` and most polling remotes ask for), else the
    /// ones asked for by id or hash, or all.
    func detailed(for fields: [String], _ selection: Selection) -> Set<InfoHash>? {
        guard fields.contains(where: { TorrentField(rawValue: $0).map(TorrentFields.detailFields.contains) ?? false }) else { return [] }
        guard case .some(let ids, let hashes) = selection else { return nil }
        return Set(ids.compactMap { self.hashes[$0] } + hashes.compactMap { InfoHash(text: $0) })
    }

    func select(_ selection: Selection, from numbered: [Numbered]) -> [Numbered] {
        switch selection {
        case .all: return numbered
        case .recentlyActive:
            // Data moved within the last minute (Transmission's measure), or moving now.
            let now = Date()
            return numbered.filter {
                let torrent = $0.torrent
                return torrent.downloadRate >= 1 || torrent.uploadRate >= 1
                    || torrent.details.lastActivity.map { now.timeIntervalSince($0) <= 60 } ?? false
            }
        case .some(let ids, let hashes):
            return numbered.filter { ids.contains($0.id) || hashes.contains($0.torrent.id.hex) }
        }
    }

    /// Runs `action` on each selected torrent; the first failure is the method's result, after
    /// the others were tried.
    func act(_ arguments: [String: JSONValue], _ action: (Session, InfoHash) async throws -> Void) async throws -> [String: JSONValue] {
        let numbered = await numberedSnapshot()
        var failure: (any Error)?
        for torrent in select(try Self.selection(arguments["ids"]), from: numbered).map(\.torrent) {
            do {
                try await action(session, torrent.id)
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw MethodError("\(failure)") }
        return [:]
    }
}
