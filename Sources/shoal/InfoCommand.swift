import ArgumentParser
import Foundation
import ShoalCore

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show what a .torrent file or a magnet link holds."
    )

    @Argument(help: "A .torrent file or a magnet: URI.")
    var source: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let report: TorrentReport
        if source.lowercased().hasPrefix("magnet:") {
            do {
                report = TorrentReport(magnet: try MagnetLink(parsing: source))
            } catch {
                throw fail("invalid magnet link: \(error.description)")
            }
        } else {
            guard let data = FileManager.default.contents(atPath: source) else {
                throw fail("\(source): cannot read the file (\(String(cString: strerror(errno))))")
            }
            do {
                report = TorrentReport(metainfo: try Metainfo(bytes: Array(data)), file: source)
            } catch {
                throw fail("\(source): invalid torrent: \(error.description)")
            }
        }
        // JSON escapes control characters itself; the text report is cleaned line by line.
        print(json ? report.json() : TerminalText.printable(report.text(), keepNewlines: true), terminator: "")
    }
}
