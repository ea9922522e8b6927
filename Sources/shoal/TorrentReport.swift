import Foundation
import ShoalCore

/// What `shoal info` prints, as text (laid out like transmission-show) or JSON.
struct TorrentReport: Encodable {
    struct File: Encodable {
        let path: String
        let length: Int64
        let padding: Bool
        /// A BEP 47 link: listed, not created.
        var symlink = false
        /// The root of its v2 hash tree (BEP 52), in hex.
        var piecesRoot: String?
    }

    var name: String
    var infoHash: String
    /// BEP 52: 2 for v2-only and hybrid torrents.
    var metaVersion = 1
    var infoHashV2: String?
    var magnet: String
    var totalSize: Int64?
    var pieceSize: Int?
    var pieceCount: Int?
    var isPrivate: Bool?
    var createdBy: String?
    var creationDate: Int64?
    var comment: String?
    var trackerTiers: [[String]]
    var webSeeds: [String] = []
    var files: [File]
    var source: String

    init(metainfo: Metainfo, file: String) {
        let info = metainfo.info
        name = info.name
        infoHash = metainfo.infoHash.hex
        magnet = MagnetLink(infoHash: metainfo.infoHash, displayName: info.name,
                            trackers: Array(metainfo.trackerTiers.joined()), v2Hash: metainfo.infoHashV2).uri
        totalSize = info.totalLength
        pieceSize = info.pieceLength
        pieceCount = info.pieceCount
        isPrivate = info.isPrivate
        createdBy = metainfo.createdBy
        creationDate = metainfo.creationDate
        comment = metainfo.comment
        trackerTiers = metainfo.trackerTiers
        webSeeds = metainfo.urlList
        files = info.files.map { File(path: info.isSingleFile ? info.name : ([info.name] + $0.path).joined(separator: "/"),
                                      length: $0.length, padding: $0.isPadding, symlink: $0.isSymlink) }
        source = file
        if let v2 = info.v2 {
            metaVersion = 2
            infoHashV2 = metainfo.infoHashV2.map(Hex.encode)
            // The v2 files are the non-padding ones, in order (a hybrid's halves were checked to agree).
            let real = files.indices.filter { !files[$0].padding }
            for (index, file) in zip(real, v2.files) { files[index].piecesRoot = file.piecesRoot.map(Hex.encode) }
        }
    }

    init(magnet link: MagnetLink) {
        name = link.displayName ?? link.infoHash.hex
        infoHash = link.infoHash.hex
        magnet = link.uri
        trackerTiers = link.trackers.map { [$0] }
        files = []
        source = "magnet"
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        // The encoder escapes control characters; characters that reorder text on a terminal
        // (bidi overrides) are escaped too, so the output is safe to show as it is.
        var out = ""
        for scalar in String(decoding: data, as: UTF8.self).unicodeScalars {
            if TerminalText.isUnsafe(scalar, keepNewlines: true) {
                out += String(format: "\\u%04x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\n"
    }

    func text() -> String {
        var out = "Name: \(name)\n"
        if source != "magnet" { out += "File: \(source)\n" }
        out += "\nGENERAL\n\n"
        out += "  Name: \(name)\n"
        out += "  Hash: \(infoHash)\n"
        if let infoHashV2 {
            out += "  Hash v2: \(infoHashV2)\n"
            out += "  Meta version: 2 (\(infoHash == String(infoHashV2.prefix(40)) ? "v2 only" : "hybrid: v1 and v2"))\n"
        }
        if let createdBy { out += "  Created by: \(createdBy)\n" }
        if let creationDate {
            let date = Date(timeIntervalSince1970: TimeInterval(creationDate))
            out += "  Created on: \(date.formatted(.iso8601))\n"
        }
        if let comment, !comment.isEmpty { out += "  Comment: \(comment)\n" }
        if let pieceCount, let pieceSize {
            out += "  Piece Count: \(pieceCount)\n"
            out += "  Piece Size: \(ByteCount.format(Int64(pieceSize)))\n"
        }
        if let totalSize { out += "  Total Size: \(ByteCount.format(totalSize)) (\(totalSize) bytes)\n" }
        if let isPrivate { out += "  Privacy: \(isPrivate ? "Private torrent" : "Public torrent")\n" }
        if source == "magnet" { out += "  Metadata: not yet fetched (magnet link)\n" }
        out += "\nTRACKERS\n"
        if trackerTiers.isEmpty { out += "\n  (none)\n" }
        for (number, tier) in trackerTiers.enumerated() {
            out += "\n  Tier #\(number + 1)\n"
            for url in tier { out += "  \(url)\n" }
        }
        if !webSeeds.isEmpty {
            out += "\nWEBSEEDS\n\n"
            for url in webSeeds { out += "  \(url)\n" }
        }
        if !files.isEmpty {
            out += "\nFILES\n\n"
            for file in files where !file.padding {
                out += file.symlink ? "  \(file.path) (symbolic link, not created)\n" : "  \(file.path) (\(ByteCount.format(file.length)))\n"
                if let root = file.piecesRoot { out += "    pieces root \(root)\n" }
            }
        }
        out += "\nMAGNET\n\n  \(magnet)\n"
        return out
    }
}
