import Foundation
import ShoalCore
import ShoalEngine

/// The Details tab: what the torrent is and where it stands, one labelled line each. Long
/// values (a magnet link, a comment) are cut at the window's edge, never wrapped over others.
struct TorrentDetailsView {
    let glyphs: Glyphs

    func draw(_ buffer: inout CellBuffer, torrent: TorrentSnapshot, rows: Range<Int>) {
        for (index, (label, value)) in Self.lines(torrent, glyphs: glyphs).prefix(rows.count).enumerated() {
            let y = rows.lowerBound + index
            buffer.put(" " + label.fitted(16), x: 0, y: y, style: .header)
            buffer.put(value, x: 18, y: y, style: label == "Error" && value != "-" ? .error : .text, maxWidth: buffer.width - 19)
        }
    }

    static func lines(_ torrent: TorrentSnapshot, glyphs: Glyphs) -> [(String, String)] {
        let details = torrent.details
        let pieces = torrent.pieces.count
        var size = "\(Format.size(torrent.totalSize)) in \(torrent.files.count) file\(torrent.files.count == 1 ? "" : "s")"
        if details.pieceLength > 0 { size += ", \(pieces) pieces of \(Format.size(Int64(details.pieceLength)))" }
        if torrent.wantedSize < torrent.totalSize { size += "; \(Format.size(torrent.wantedSize)) wanted" }
        var created = details.creationDate.map { date(Date(timeIntervalSince1970: TimeInterval($0))) } ?? "-"
        if let by = details.createdBy { created += " by \(by)" }
        func limit(_ value: Int) -> String { value == 0 ? glyphs.unlimited : Format.size(Int64(value)) + "/s" }
        let goal: String = switch details.seedRatio {
        case .session: "the session's"
        case .own(let ratio): "ratio \(ByteCount.fixed(ratio, digits: 2))"
        case .unlimited: "none: seeds until stopped"
        }
        return [
            ("Name", torrent.name),
            ("Info-hash", torrent.id.hex),
            ("Magnet", details.magnetURI ?? "-"),
            ("Location", (details.location.isEmpty ? torrent.downloadDirectory : details.location)
                + (torrent.move.map { "   moving to \($0.destination): \(Format.percent($0.fraction))" } ?? "")),
            ("Size", size),
            ("Private", torrent.isPrivate ? "yes: trackers only (no DHT, no peer exchange)" : "no"),
            ("Comment", details.comment ?? "-"),
            ("Created", created),
            ("Added", details.added.map(date) ?? "-"),
            ("Completed", details.completed.map(date) ?? "-"),
            ("Totals", "\(glyphs.down) \(Format.size(torrent.downloaded))   \(glyphs.up) \(Format.size(torrent.uploaded))"
                + "   ratio \(Format.ratio(torrent.ratio))"),
            ("Checks", "\(torrent.hashFailures) failed piece\(torrent.hashFailures == 1 ? "" : "s"), "
                + "\(torrent.bannedPeers) banned peer\(torrent.bannedPeers == 1 ? "" : "s")"),
            ("Seeding goal", goal),
            ("Limits", "\(glyphs.down) \(limit(details.downloadLimit))   \(glyphs.up) \(limit(details.uploadLimit))"),
            ("Labels", details.labels.isEmpty ? "-" : details.labels.joined(separator: ", ")),
            ("Piece order", details.sequential ? "sequential (each file's first and last pieces first)" : "rarest first"),
            ("Error", torrent.error ?? "-"),
        ]
    }

    /// Local time, to the minute, as a user reads a date.
    static func date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }
}
