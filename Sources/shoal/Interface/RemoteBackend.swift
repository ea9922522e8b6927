import Foundation
import ShoalCore
import ShoalEngine
import ShoalTUI

/// A daemon driven through its RPC (`shoal attach`): every key does what it does locally, by
/// Transmission's methods where they exist and Shoal's own (`shoal-*`) where they do not. The
/// daemon stays the one owner of the engine.
actor RemoteBackend: InterfaceBackend {
    let client: RPCClient
    nonisolated let title: String?
    nonisolated var detaches: Bool { true }
    var noticeCount: Int?
    var pendingNotices: [String] = []
    var freeSpace: Int64?
    var logCount = 0
    var pendingLog: [String] = []

    init(client: RPCClient, title: String) {
        self.client = client
        self.title = title
    }

    func refresh(selected: InfoHash?) async throws -> SessionSnapshot {
        var asked: [String: JSONValue] = ["log-after": .int(logCount)]
        if let noticeCount { asked["notices-after"] = .int(noticeCount) }
        let session = try await client.call("shoal-session", asked)
        pendingLog += (session["log"]?.array ?? []).compactMap(\.string)
        logCount = session["logCount"]?.int ?? logCount
        // The first look only learns how many notices there were: old ones are not news.
        if noticeCount != nil { pendingNotices += (session["notices"]?.array ?? []).compactMap(\.string) }
        noticeCount = session["noticeCount"]?.int ?? noticeCount
        freeSpace = session["freeSpace"]?.int.map(Int64.init)
        let list = try await client.call("torrent-get", ["fields": .array(RemoteSnapshot.listFields.map(JSONValue.string))])
        var detail: JSONValue?
        if let selected {
            let answer = try await client.call("torrent-get", ["ids": [.string(selected.hex)],
                                                               "fields": .array(RemoteSnapshot.detailFields.map(JSONValue.string))])
            detail = answer["torrents"]?.array?.first
        }
        return RemoteSnapshot.decode(list: list["torrents"]?.array ?? [], detail: detail, session: session)
    }

    func notices() -> [String] {
        defer { pendingNotices.removeAll() }
        return pendingNotices
    }

    func freeDiskBytes() -> Int64? { freeSpace }

    func newLogLines() -> [String] {
        defer { pendingLog.removeAll() }
        return pendingLog
    }

    func perform(_ command: UICommand) async -> String? {
        do {
            switch command {
            case .add(let path):
                // The file is read here, where the user typed its path, and sent whole: the
                // daemon may be on another machine.
                let source = try TorrentSource.load(TorrentSource.expanded(path))
                var arguments: [String: JSONValue]
                switch source {
                case .magnet(let magnet): arguments = ["filename": .string(magnet.uri)]
                case .torrent(let metainfo): arguments = ["metainfo": .string(Data(metainfo.fileBytes).base64EncodedString())]
                }
                let answer = try await client.call("torrent-add", arguments)
                if answer["torrent-duplicate"] != nil { return "\(source.name) is already in the session" }
                return "added \(source.name)"
            case .pause(let id): _ = try await client.call("torrent-stop", ids(id))
            case .resume(let id): _ = try await client.call("torrent-start", ids(id))
            case .setSeeding(let id, let seed): _ = try await client.call("shoal-set-seeding", ids(id).merging(["seed": .bool(seed)]) { $1 })
            case .remove(let id, let deleteData):
                _ = try await client.call("torrent-remove", ids(id).merging(["delete-local-data": .bool(deleteData)]) { $1 })
            case .setFilePriorities(let id, let priorities):
                let indices = { (wanted: (FilePriority) -> Bool) -> JSONValue in
                    .array(priorities.indices.filter { wanted(priorities[$0]) }.map { .int($0) })
                }
                var arguments = ids(id)
                // Empty lists mean "every file" to Transmission: send only those with members.
                for (key, list) in [("files-wanted", indices { $0 != .skip }), ("files-unwanted", indices { $0 == .skip }),
                                    ("priority-high", indices { $0 == .high }), ("priority-normal", indices { $0 == .normal }),
                                    ("priority-low", indices { $0 == .low })]
                    where list.array?.isEmpty == false {
                    arguments[key] = list
                }
                _ = try await client.call("torrent-set", arguments)
            case .verify(let id): _ = try await client.call("torrent-verify", ids(id))
            case .reannounce(let id): _ = try await client.call("torrent-reannounce", ids(id))
            case .setGlobalLimits(let up, let down):
                var arguments: [String: JSONValue] = [:]
                if let up { arguments["upload"] = .int(up * 1024) }
                if let down { arguments["download"] = .int(down * 1024) }
                _ = try await client.call("shoal-set-limits", arguments)
            case .setTorrentLimits(let id, let up, let down):
                var arguments = ids(id)
                if let up { arguments["upload"] = .int(up * 1024) }
                if let down { arguments["download"] = .int(down * 1024) }
                _ = try await client.call("shoal-set-limits", arguments)
            case .setAltSpeed(let enabled): _ = try await client.call("session-set", ["alt-speed-enabled": .bool(enabled)])
            case .move(let id, let directory):
                // The path is the daemon's: sent as typed, but for a leading ~ it cannot know.
                guard directory.hasPrefix("/") else { return "the daemon needs an absolute path to move the data to" }
                _ = try await client.call("torrent-set-location", ids(id).merging(["location": .string(directory), "move": true]) { $1 })
                return "moving the data to \(directory)"
            case .setLabels(let id, let labels):
                _ = try await client.call("torrent-set", ids(id).merging(["labels": .array(labels.map(JSONValue.string))]) { $1 })
            case .closePeer(let id, let address, let ban):
                _ = try await client.call("shoal-close-peer", ids(id).merging(["address": .string(address), "ban": .bool(ban)]) { $1 })
                return ban ? "banned \(address)" : "closed the connection to \(address)"
            case .setTrackers(let id, let tiers):
                let list = tiers.map { $0.joined(separator: "\n") }.joined(separator: "\n\n")
                _ = try await client.call("torrent-set", ids(id).merging(["trackerList": .string(list)]) { $1 })
            case .setSequential(let id, let on):
                _ = try await client.call("torrent-set", ids(id).merging(["sequentialDownload": .bool(on)]) { $1 })
            case .moveInQueue(let id, let move):
                let method = switch move {
                case .up: "queue-move-up"
                case .down: "queue-move-down"
                case .top: "queue-move-top"
                case .bottom: "queue-move-bottom"
                }
                _ = try await client.call(method, ids(id))
            case .quit, .refresh: break
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    private func ids(_ hash: InfoHash) -> [String: JSONValue] { ["ids": [.string(hash.hex)]] }
}
