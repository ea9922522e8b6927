import Foundation
import ShoalCore

/// A torrent named on the command line: a .torrent file (magnets come with metadata exchange).
enum TorrentSource {
    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    static func load(_ argument: String) throws(LoadError) -> Metainfo {
        if argument.lowercased().hasPrefix("magnet:") {
            throw LoadError(description: "\(argument.prefix(60)): magnet links need metadata exchange, which this build does not have yet; use the .torrent file")
        }
        guard let data = FileManager.default.contents(atPath: argument) else {
            throw LoadError(description: "\(argument): cannot read the file (\(String(cString: strerror(errno))))")
        }
        do {
            return try Metainfo(bytes: Array(data))
        } catch {
            throw LoadError(description: "\(argument): invalid torrent: \(error.description)")
        }
    }
}
