/// The Log view (`L`): the engine's recent log lines, newest at the bottom, as the log file has
/// them less the date; scrolled back with the moving keys. Why a peer was dropped, a tracker
/// failed or a file was refused can be read here without leaving the interface.
struct LogView {
    func draw(_ buffer: inout CellBuffer, lines: [String], scroll: Int, rows: Range<Int>) {
        for y in rows { buffer.fill(y: y, style: .text) }
        guard rows.count >= 2 else { return }
        let shown = rows.count - 1
        let back = min(max(0, scroll), max(0, lines.count - shown))
        let end = lines.count - back
        let visible = lines[max(0, end - shown)..<end]
        let title = lines.isEmpty ? " Log: nothing yet (info and up; the log file has more at --log-level debug) "
            : " Log: lines \(end - visible.count + 1)-\(end) of \(lines.count)   ↑↓ PgUp PgDn scroll   Esc or L closes "
        buffer.put(title, x: 0, y: rows.lowerBound, style: .title)
        for (index, line) in visible.enumerated() {
            let (text, style) = Self.display(line)
            buffer.put(" " + text, x: 0, y: rows.lowerBound + 1 + index, style: style, maxWidth: buffer.width)
        }
    }

    /// "2026-12-02T13:00:00.123Z warning text…" → "13:00:00 warning text…", styled by level.
    static func display(_ line: String) -> (String, StyleSlot) {
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let t = parts[0].firstIndex(of: "T") else { return (line, .text) }
        let time = parts[0][parts[0].index(after: t)...].prefix(8)
        let style: StyleSlot = switch parts[1] {
        case "error", "critical": .error
        case "warning": .message
        case "notice": .key
        default: .text
        }
        return ("\(time) \(parts[1]) \(parts[2])", style)
    }
}
