/// The key help, generated from `Keymap` so it cannot go stale: every binding under its
/// context's heading, over the whole screen (nothing shows through at the edges), in two
/// columns when the window is wide, and scrolled when it still does not fit.
struct HelpView {
    struct Line: Equatable {
        let keys: String
        let text: String
        var isHeading: Bool { keys.isEmpty }
    }

    static let headings: [(KeyBinding.Context, String)] = [
        (.everywhere, "Everywhere"), (.list, "Torrent list"), (.detail, "Torrent details"), (.peers, "Peers tab"), (.trackers, "Trackers tab"),
        (.files, "Files tab"),
    ]

    /// Headings and bindings in reading order, a blank line between sections.
    static let lines: [Line] = {
        var out: [Line] = []
        for (context, heading) in headings {
            let bindings = Keymap.bindings.filter { $0.context == context }
            guard !bindings.isEmpty else { continue }
            if !out.isEmpty { out.append(Line(keys: " ", text: "")) }
            out.append(Line(keys: "", text: heading))
            out += bindings.map { Line(keys: $0.keys.map(\.label).joined(separator: " "), text: $0.description) }
        }
        return out
    }()

    /// Room for the keys and the longest description (41 columns, checked by a test).
    static let columnWidth = 58

    /// How many columns the window takes, and the lines each column shows.
    static func shape(width: Int, height: Int) -> (columns: Int, rows: Int) {
        (width >= 2 * columnWidth + 2 ? 2 : 1, max(1, height - 3))
    }

    /// The furthest the help scrolls at this size (0: it all fits).
    static func maxScroll(width: Int, height: Int) -> Int {
        let (columns, rows) = shape(width: width, height: height)
        let perColumn = (lines.count + columns - 1) / columns
        return max(0, perColumn - rows)
    }

    func draw(_ buffer: inout CellBuffer, scroll requested: Int) {
        let (columns, rows) = Self.shape(width: buffer.width, height: buffer.height)
        let scroll = min(max(0, requested), Self.maxScroll(width: buffer.width, height: buffer.height))
        let perColumn = (Self.lines.count + columns - 1) / columns
        for y in 1..<buffer.height { buffer.fill(y: y, style: .text) }
        buffer.put(" Keys ", x: 1, y: 1, style: .title)
        let columnWidth = columns == 2 ? (buffer.width - 2) / 2 : buffer.width - 2
        for column in 0..<columns {
            let first = column * perColumn + scroll
            let shown = Self.lines.dropFirst(first).prefix(min(rows, perColumn - scroll))
            for (row, line) in shown.enumerated() {
                let x = 2 + column * columnWidth, y = 2 + row
                if line.isHeading {
                    buffer.put(line.text, x: x, y: y, style: .header, maxWidth: columnWidth - 2)
                } else {
                    buffer.put(line.keys.fitted(14), x: x, y: y, style: .key)
                    buffer.put(line.text, x: x + 15, y: y, style: .text, maxWidth: columnWidth - 17)
                }
            }
        }
        let last = min(perColumn, scroll + rows)
        let position = scroll > 0 || last < perColumn ? "lines \(scroll + 1)-\(last) of \(perColumn)  ↑↓ PgUp PgDn scroll  " : ""
        buffer.put(position + "Esc, q or ? closes", x: 2, y: buffer.height - 1, style: .dim)
    }
}
