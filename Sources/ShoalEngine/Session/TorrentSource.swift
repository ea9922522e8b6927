import Foundation
import ShoalCore

/// A torrent named on the command line or in the add prompt: a .torrent file, a magnet link, or
/// a `.magnet` file holding one. The RPC's `torrent-add` takes the same, plus a fetched URL.
public enum TorrentSource: Sendable {
    case torrent(Metainfo)
    case magnet(MagnetLink)

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// A path typed into the interface with `~` expanded (a magnet link as it is).
    public static func expanded(_ text: String) -> String {
        text.lowercased().hasPrefix("magnet:") ? text : (text as NSString).expandingTildeInPath
    }

    public static func load(_ argument: String) throws(LoadError) -> TorrentSource {
        let trimmed = argument.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.lowercased().hasPrefix("magnet:") {
            do {
                return .magnet(try MagnetLink(parsing: trimmed))
            } catch {
                throw LoadError(description: "\(trimmed.prefix(60)): \(error.description)")
            }
        }
        guard let data = FileManager.default.contents(atPath: argument) else {
            throw LoadError(description: "\(argument): cannot read the file (\(String(cString: strerror(errno))))")
        }
        if argument.lowercased().hasSuffix(".magnet") {
            return try load(String(decoding: data, as: UTF8.self))
        }
        do {
            return .torrent(try Metainfo(bytes: Array(data)))
        } catch {
            throw LoadError(description: "\(argument): invalid torrent: \(error.description)")
        }
    }

    public var infoHash: InfoHash {
        switch self {
        case .torrent(let metainfo): return metainfo.infoHash
        case .magnet(let magnet): return magnet.infoHash
        }
    }

    public var name: String {
        switch self {
        case .torrent(let metainfo): return metainfo.info.name
        case .magnet(let magnet): return magnet.displayName ?? magnet.infoHash.hex
        }
    }
}

extension Session {
    @discardableResult
    public func add(_ source: TorrentSource) async throws -> InfoHash {
        switch source {
        case .torrent(let metainfo): return try await add(metainfo)
        case .magnet(let magnet): return try await add(magnet: magnet)
        }
    }

    /// Several at once (a command line's): the torrent files as one batch (saved together, the
    /// queue planned once: a plan per torrent looks at every torrent of the session), then the
    /// magnets one by one. Each source with what became of it, files first.
    public func add(sources: [TorrentSource]) async -> [(TorrentSource, Result<InfoHash, any Error>)] {
        let files = sources.compactMap { source -> Metainfo? in
            if case .torrent(let metainfo) = source { return metainfo }
            return nil
        }
        var outcomes = Array(zip(files.map(TorrentSource.torrent), await add(batch: files)))
        for source in sources {
            guard case .magnet(let magnet) = source else { continue }
            do {
                outcomes.append((source, .success(try await add(magnet: magnet))))
            } catch {
                outcomes.append((source, .failure(error)))
            }
        }
        return outcomes
    }
}
