import ShoalCore
import ShoalEngine

/// Draws a whole frame: title, torrent list or detail view, status bar, and any prompt or help.
public struct Screen: Sendable {
    public var glyphs: Glyphs
    /// Free bytes in the download directory, measured by the caller (nil when unknown).
    public var freeDiskBytes: Int64?

    public init(glyphs: Glyphs = .unicode, freeDiskBytes: Int64? = nil) {
        self.glyphs = glyphs
        self.freeDiskBytes = freeDiskBytes
    }

    /// Rows available to the list or the detail body.
    public static func bodyHeight(_ height: Int) -> Int { max(0, height - 3) }

    public func render(_ snapshot: SessionSnapshot, state: UIState, width: Int, height: Int,
                       now: ContinuousClock.Instant = .now) -> CellBuffer {
        var buffer = CellBuffer(width: width, height: height)
        guard width >= 40 && height >= 10 else {
            buffer.put("too small: Shoal needs 40×10", x: 0, y: 0, style: .error)
            return buffer
        }
        drawTitle(&buffer, snapshot)
        let body = ScreenLayout(width: width, height: height).body
        if state.inDetail, let torrent = state.selected(snapshot) {
            DetailView(glyphs: glyphs).draw(&buffer, torrent: torrent, state: state, rows: body, now: now)
        } else {
            TorrentListView(glyphs: glyphs).draw(&buffer, torrents: state.visible(snapshot), state: state, rows: body)
        }
        drawStatus(&buffer, snapshot, state: state, y: height - 2)
        drawPromptOrHints(&buffer, state: state, y: height - 1)
        if state.showHelp { HelpView().draw(&buffer) }
        return buffer
    }

    private func drawTitle(_ buffer: inout CellBuffer, _ snapshot: SessionSnapshot) {
        buffer.fill(y: 0, style: .text)
        var x = buffer.put(" Shoal ", x: 0, y: 0, style: .title)
        let count = snapshot.torrents.count
        x = buffer.put("\(count) torrent\(count == 1 ? "" : "s")  ", x: x + 1, y: 0, style: .dim)
        x = buffer.put("\(glyphs.down) \(Format.rate(snapshot.downloadRate))", x: x, y: 0, style: .downloading)
        buffer.put("  \(glyphs.up) \(Format.rate(snapshot.uploadRate))", x: x, y: 0, style: .seeding)
        let help = "? help  q quit "
        buffer.put(help, x: buffer.width - help.count, y: 0, style: .dim)
    }

    private func drawStatus(_ buffer: inout CellBuffer, _ snapshot: SessionSnapshot, state: UIState, y: Int) {
        buffer.fill(y: y, style: .statusBar)
        func limit(_ value: Int) -> String { value == 0 ? "∞" : ByteCount.format(Int64(value)) + "/s" }
        var parts = [
            "\(glyphs.down) \(Format.rate(snapshot.downloadRate)) (limit \(limit(snapshot.downloadLimit)))",
            "\(glyphs.up) \(Format.rate(snapshot.uploadRate)) (limit \(limit(snapshot.uploadLimit)))",
            "port \(snapshot.listenPort)",
        ]
        if let freeDiskBytes { parts.append("free \(Format.size(freeDiskBytes))") }
        if state.sort != .added { parts.append("sort: \(state.sort.rawValue)") }
        if !state.filter.isEmpty { parts.append("filter: \(state.filter)") }
        buffer.put(" " + parts.joined(separator: "  \(glyphs.separator)  "), x: 0, y: y, style: .statusBar)
    }

    private func drawPromptOrHints(_ buffer: inout CellBuffer, state: UIState, y: Int) {
        switch state.prompt {
        case .addPath(let text)?:
            // Several completions: they show on the status bar's line, above the prompt.
            if let choices = state.message { buffer.fill(y: y - 1, style: .text); buffer.put(choices, x: 1, y: y - 1, style: .message) }
            let x = buffer.put("Add torrent file: ", x: 1, y: y, style: .prompt)
            buffer.put(text + "█", x: x, y: y, style: .text)
        case .filter(let text)?:
            let x = buffer.put("Filter: ", x: 1, y: y, style: .prompt)
            buffer.put(text + "█", x: x, y: y, style: .text)
        case .limit(let upload, let text)?:
            let x = buffer.put(upload ? "Upload limit, KiB/s (0 = unlimited): " : "Download limit, KiB/s (0 = unlimited): ",
                               x: 1, y: y, style: .prompt)
            buffer.put(text + "█", x: x, y: y, style: .text)
        case .confirmQuit(let active)?:
            buffer.put("Quit? \(active) torrent\(active == 1 ? " is" : "s are") active (y/n)", x: 1, y: y, style: .prompt)
        case .confirmRemove(_, let name, let deleteData)?:
            buffer.put(deleteData ? "Remove \(name) AND DELETE ITS DATA? (y/n)" : "Remove \(name)? (y/n)",
                       x: 1, y: y, style: deleteData ? .error : .prompt)
        case nil:
            if let message = state.message {
                buffer.put(message, x: 1, y: y, style: .message)
            } else {
                let hints = state.inDetail
                    ? [("Tab", "tabs"), ("Esc", "back"), ("p", "pause"), ("S", "seed"), ("+/-/x", "file priority")]
                    : [("Enter", "details"), ("a", "add"), ("p", "pause"), ("S", "seed"), ("r", "remove"), ("s", "sort"), ("/", "filter")]
                var x = 1
                for (key, what) in hints {
                    x = buffer.put(key, x: x, y: y, style: .key)
                    x = buffer.put(" \(what)  ", x: x, y: y, style: .dim)
                }
            }
        }
    }
}

struct TorrentListView {
    let glyphs: Glyphs

    func draw(_ buffer: inout CellBuffer, torrents: [TorrentSnapshot], state: UIState, rows: Range<Int>) {
        let width = buffer.width
        // Fixed columns on the right; the name takes what is left.
        let columns: [(String, Int)] = [("Size", 10), ("Progress", 18), ("State", 12), ("\(glyphs.down)", 12),
                                         ("\(glyphs.up)", 12), ("ETA", 8), ("Ratio", 6), ("Peers", 7)]
        let fixed = columns.reduce(0) { $0 + $1.1 + 1 }
        let nameWidth = max(10, width - fixed - 1)
        var x = buffer.put(" " + "Name".fitted(nameWidth), x: 0, y: rows.lowerBound, style: .header)
        for (title, columnWidth) in columns {
            x = buffer.put(" " + title.fitted(columnWidth, alignRight: title != "Progress" && title != "State"), x: x,
                           y: rows.lowerBound, style: .header)
        }
        let listRows = (rows.lowerBound + 1)..<rows.upperBound
        guard !torrents.isEmpty else {
            buffer.put("No torrents. Press a to add a .torrent file, or start Shoal with files or --watch DIR.",
                       x: 2, y: listRows.lowerBound + 1, style: .dim)
            return
        }
        let selectedIndex = torrents.firstIndex { $0.id == state.selectedID } ?? 0
        let (start, visible) = ScreenLayout(width: width, height: buffer.height).listWindow(count: torrents.count, selectedIndex: selectedIndex)
        for (row, torrent) in torrents.dropFirst(start).prefix(visible).enumerated() {
            let y = listRows.lowerBound + row
            let (stateText, stateStyle) = Format.activity(torrent)
            var cx = buffer.put(" " + torrent.name.fitted(nameWidth), x: 0, y: y, style: .text)
            cx = buffer.put(" " + Format.size(torrent.totalSize).fitted(10, alignRight: true), x: cx, y: y, style: .text)
            let barWidth = 11
            cx = buffer.put(" " + glyphs.bar(torrent.progress, width: barWidth), x: cx, y: y,
                            style: torrent.isComplete ? .seeding : .pieceHave)
            cx = buffer.put(Format.percent(torrent.progress).fitted(7, alignRight: true), x: cx, y: y, style: .text)
            cx = buffer.put(" " + stateText.fitted(12), x: cx, y: y, style: stateStyle)
            cx = buffer.put(" " + Format.rate(torrent.downloadRate).fitted(12, alignRight: true), x: cx, y: y, style: .downloading)
            cx = buffer.put(" " + Format.rate(torrent.uploadRate).fitted(12, alignRight: true), x: cx, y: y, style: .seeding)
            cx = buffer.put(" " + Format.eta(torrent.eta).fitted(8, alignRight: true), x: cx, y: y, style: .text)
            cx = buffer.put(" " + Format.ratio(torrent.ratio).fitted(6, alignRight: true), x: cx, y: y, style: .text)
            buffer.put(" " + "\(torrent.peers.count)/\(torrent.seedCount)".fitted(7, alignRight: true), x: cx, y: y, style: .text)
            if torrent.id == state.selectedID { buffer.restyle(y: y, style: .selected) }
        }
        if torrents.count > visible {
            let position = " \(start + 1)-\(min(torrents.count, start + visible)) of \(torrents.count) "
            buffer.put(position, x: width - position.count, y: rows.upperBound - 1, style: .dim)
        }
    }
}

struct HelpView {
    func draw(_ buffer: inout CellBuffer) {
        let lines = Keymap.bindings.map { binding in
            (binding.keys.map(\.label).joined(separator: " "), binding.description + (binding.context == .everywhere ? "" : " (\(binding.context.rawValue))"))
        }
        let width = min(buffer.width - 4, 64)
        let height = min(buffer.height - 2, lines.count + 4)
        let left = (buffer.width - width) / 2
        let top = max(1, (buffer.height - height) / 2)
        for y in top..<(top + height) { buffer.fill(y: y, from: left, to: left + width, style: .text) }
        buffer.put(" Keys ", x: left + 2, y: top, style: .title)
        for (index, line) in lines.prefix(height - 4).enumerated() {
            let y = top + 2 + index
            buffer.put(line.0.fitted(14), x: left + 2, y: y, style: .key)
            buffer.put(line.1, x: left + 17, y: y, style: .text, maxWidth: width - 19)
        }
        buffer.put("any key closes this", x: left + 2, y: top + height - 1, style: .dim)
    }
}
