import ShoalCore
import ShoalEngine

/// Every piece of the torrent, scaled to the space available: one cell per piece when they fit,
/// otherwise one cell per group, drawn as full as the share of the group we have. Missing pieces
/// show how many peers have them (red ×: nobody, yellow ┄: one, dim ░: several).
struct PieceMapView {
    let glyphs: Glyphs

    func draw(_ buffer: inout CellBuffer, torrent: TorrentSnapshot, rows: Range<Int>) {
        let pieces = torrent.pieces
        guard pieces.count > 0, rows.count >= 3 else { return }
        let legendRows = 2
        let width = buffer.width - 2
        let height = rows.count - legendRows
        let cells = min(pieces.count, width * height)
        let perCell = (pieces.count + cells - 1) / cells
        let used = (pieces.count + perCell - 1) / perCell
        let active = Set(torrent.piecesInProgress)
        let availability = torrent.availability
        for cell in 0..<used {
            let start = cell * perCell
            let end = min(pieces.count, start + perCell)
            var have = 0
            var downloading = false
            var minimumAvailability = Int.max
            for index in start..<end {
                if pieces[index] { have += 1 } else {
                    if active.contains(index) { downloading = true }
                    if index < availability.count { minimumAvailability = min(minimumAvailability, availability[index]) }
                }
            }
            let glyph: String
            let style: StyleSlot
            if have == end - start {
                glyph = glyphs.full
                style = .pieceHave
            } else if downloading {
                glyph = glyphs.partial
                style = .pieceActive
            } else if have > 0 {
                glyph = glyphs.levels[max(1, Int(Double(have) / Double(end - start) * 8))]
                style = .pieceHave
            } else {
                if minimumAvailability == 0 || minimumAvailability == .max {
                    (glyph, style) = (glyphs.missingNobody, .heatLow)
                } else if minimumAvailability == 1 {
                    (glyph, style) = (glyphs.missingOnePeer, .heatMid)
                } else {
                    (glyph, style) = (glyphs.missing, .pieceMissing)
                }
            }
            buffer.put(glyph, x: 1 + cell % width, y: rows.lowerBound + cell / width, style: style)
        }
        let legendY = rows.upperBound - legendRows
        var x = 1
        for (glyph, style, label) in [(glyphs.full, StyleSlot.pieceHave, "have"), (glyphs.partial, .pieceActive, "downloading"),
                                      (glyphs.missing, .pieceMissing, "missing (2+ peers)"), (glyphs.missingOnePeer, .heatMid, "1 peer"),
                                      (glyphs.missingNobody, .heatLow, "nobody")] {
            x = buffer.put(glyph, x: x, y: legendY, style: style)
            x = buffer.put(" \(label)   ", x: x, y: legendY, style: .dim)
        }
        let counts = "have \(pieces.setCount)/\(pieces.count)  downloading \(active.count)  "
            + "distributed copies \(ByteCount.fixed(Self.distributedCopies(pieces: pieces, availability: availability), digits: 2))"
            + (perCell > 1 ? "  (\(perCell) pieces a cell)" : "")
        buffer.put(counts, x: 1, y: legendY + 1, style: .text)
    }

    /// How many full copies the swarm we see holds (us included): the rarest piece's count, plus
    /// the share of pieces more common than that.
    static func distributedCopies(pieces: Bitfield, availability: [Int]) -> Double {
        guard pieces.count > 0, availability.count == pieces.count else { return 0 }
        let counts = (0..<pieces.count).map { availability[$0] + (pieces[$0] ? 1 : 0) }
        let minimum = counts.min() ?? 0
        return Double(minimum) + Double(counts.filter { $0 > minimum }.count) / Double(counts.count)
    }
}
