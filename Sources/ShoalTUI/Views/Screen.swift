import ShoalCore
import ShoalEngine

/// Draws a whole frame: title, torrent list or detail view, status bar, and any prompt or help.
public struct Screen: Sendable {
    public var glyphs: Glyphs
    /// Free bytes in the download directory, measured by the caller (nil when unknown).
    public var freeDiskBytes: Int64?
    /// The daemon this interface is attached to (`shoal attach`), shown in the title.
    public var attachedTo: String?
    /// A problem shown in place of the status bar while it lasts (a lost daemon).
    public var banner: String?

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
        if state.showLog {
            LogView().draw(&buffer, lines: state.log, scroll: state.logScroll, rows: body)
        } else if state.inDetail, let torrent = state.selected(snapshot) {
            DetailView(glyphs: glyphs).draw(&buffer, torrent: torrent, state: state, rows: body, now: now)
        } else {
            TorrentListView(glyphs: glyphs).draw(&buffer, torrents: state.visible(snapshot), state: state, rows: body)
        }
        drawStatus(&buffer, snapshot, state: state, y: height - 2)
        drawPromptOrHints(&buffer, state: state, y: height - 1)
        if state.showHelp { HelpView().draw(&buffer, scroll: state.helpScroll) }
        return buffer
    }

    private func drawTitle(_ buffer: inout CellBuffer, _ snapshot: SessionSnapshot) {
        buffer.fill(y: 0, style: .text)
        var x = buffer.put(" Shoal ", x: 0, y: 0, style: .title)
        let count = snapshot.torrents.count
        x = buffer.put("\(count) torrent\(count == 1 ? "" : "s")  ", x: x + 1, y: 0, style: .dim)
        x = buffer.put("\(glyphs.down) \(Format.rate(snapshot.downloadRate))", x: x, y: 0, style: .downloading)
        x = buffer.put("  \(glyphs.up) \(Format.rate(snapshot.uploadRate))", x: x, y: 0, style: .seeding)
        if let attachedTo {
            x = buffer.put("  attached to \(attachedTo)", x: x, y: 0, style: .dim)
        }
        let help = attachedTo == nil ? "? help  q quit " : "? help  q detach "
        if x + 2 + help.count <= buffer.width { buffer.put(help, x: buffer.width - help.count, y: 0, style: .dim) }
    }

    private func drawStatus(_ buffer: inout CellBuffer, _ snapshot: SessionSnapshot, state: UIState, y: Int) {
        if let banner {
            buffer.fill(y: y, style: .error)
            buffer.put(" " + banner, x: 0, y: y, style: .error)
            return
        }
        buffer.fill(y: y, style: .statusBar)
        func limit(_ value: Int) -> String { value == 0 ? glyphs.unlimited : ByteCount.format(Int64(value)) + "/s" }
        let turtle = snapshot.altSpeedEnabled ? "turtle " : ""
        var parts = [
            "\(glyphs.down) \(Format.rate(snapshot.downloadRate)) (\(turtle)limit \(limit(snapshot.downloadLimit)))",
            "\(glyphs.up) \(Format.rate(snapshot.uploadRate)) (\(turtle)limit \(limit(snapshot.uploadLimit)))",
        ]
        if state.view != .all {
            // Unfiltered, the list's rows are the view's; else counted without copying any out.
            let inView = state.filter.isEmpty ? state.visible(snapshot).count : snapshot.torrents.count(where: state.view.contains)
            parts.append("view \(state.view.title): \(inView) of \(snapshot.torrents.count)")
        }
        parts.append("port \(snapshot.listenPort)")
        if let nodes = snapshot.dhtNodes { parts.append("DHT \(nodes) node\(nodes == 1 ? "" : "s")") }
        if let freeDiskBytes { parts.append("free \(Format.size(freeDiskBytes))") }
        if state.sort != .added || state.sortReversed { parts.append("sort: \(state.sort.rawValue)\(state.sortReversed ? " reversed" : "")") }
        if !state.filter.isEmpty { parts.append("filter: \(state.filter)") }
        if !state.marked.isEmpty { parts.insert("\(state.marked.count) marked", at: 0) }
        // Whole parts only, in order of importance, as many as the width takes.
        var line = ""
        for part in parts {
            let next = line.isEmpty ? " " + part : line + "  \(glyphs.separator)  " + part
            if DisplayWidth.of(next) > buffer.width { break }
            line = next
        }
        buffer.put(line, x: 0, y: y, style: .statusBar)
    }

    private func drawPromptOrHints(_ buffer: inout CellBuffer, state: UIState, y: Int) {
        switch state.prompt {
        case .addPath(let text)?:
            // Several completions: they show on the status bar's line, above the prompt.
            if let choices = state.message { buffer.fill(y: y - 1, style: .text); buffer.put(choices, x: 1, y: y - 1, style: .message) }
            let x = buffer.put("Add a .torrent file or a magnet link: ", x: 1, y: y, style: .prompt)
            buffer.put(text + glyphs.cursor, x: x, y: y, style: .text)
        case .filter(let text)?:
            let x = buffer.put("Filter: ", x: 1, y: y, style: .prompt)
            buffer.put(text + glyphs.cursor, x: x, y: y, style: .text)
        case .limit(let upload, let text, let torrents)?:
            let whose = torrents.isEmpty ? "" : torrents.count == 1 ? "This torrent's " : "\(torrents.count) torrents' "
            let what = upload ? "upload limit" : "download limit"
            let x = buffer.put((whose.isEmpty ? what.prefix(1).uppercased() + what.dropFirst() : whose + what) + ", KiB/s (0 = unlimited): ",
                               x: 1, y: y, style: .prompt)
            buffer.put(text + glyphs.cursor, x: x, y: y, style: .text)
        case .move(_, let text)?:
            if let choices = state.message { buffer.fill(y: y - 1, style: .text); buffer.put(choices, x: 1, y: y - 1, style: .message) }
            let x = buffer.put("Move the data to: ", x: 1, y: y, style: .prompt)
            buffer.put(text + glyphs.cursor, x: x, y: y, style: .text)
        case .tracker(_, let index, let text)?:
            let x = buffer.put(index == nil ? "Add a tracker (a new tier): " : "Tracker URL: ", x: 1, y: y, style: .prompt)
            buffer.put(text + glyphs.cursor, x: x, y: y, style: .text)
        case .labels(_, let text)?:
            let x = buffer.put("Labels, separated by commas: ", x: 1, y: y, style: .prompt)
            buffer.put(text + glyphs.cursor, x: x, y: y, style: .text)
        case .confirmQuit(let active)?:
            buffer.put("Quit? \(active) torrent\(active == 1 ? " is" : "s are") active (y/n)", x: 1, y: y, style: .prompt)
        case .confirmRemove(_, let name, let deleteData)?:
            buffer.put(deleteData ? "Remove \(name) AND DELETE ITS DATA? (y/n)" : "Remove \(name)? (y/n)",
                       x: 1, y: y, style: deleteData ? .error : .prompt)
        case nil:
            if let message = state.message {
                buffer.put(message, x: 1, y: y, style: .message)
            } else {
                let hints = !state.inDetail
                    ? [("Enter", "details"), ("a", "add"), ("p", "pause"), ("S", "seed"), ("r", "remove"), ("s", "sort"), ("/", "filter")]
                    : state.tab == .files
                    ? [("Tab", "tabs"), ("Esc", "back"), ("j/k", "file"), ("+/-", "priority"), ("x", "skip"), ("Enter", "fold")]
                    : state.tab == .trackers
                    ? [("Tab", "tabs"), ("Esc", "back"), ("i", "add"), ("e", "edit"), ("x", "remove"), ("n", "announce")]
                    : state.tab == .peers
                    ? [("Tab", "tabs"), ("Esc", "back"), ("↑/j", "peer"), ("k", "kick"), ("K", "ban"), ("p", "pause")]
                    : [("Tab", "tabs"), ("Esc", "back"), ("p", "pause"), ("S", "seed"), ("A", "announce"), ("v", "verify")]
                var x = 1
                for (key, what) in hints {
                    if x + DisplayWidth.of(key) + what.count + 1 > buffer.width { break }
                    x = buffer.put(key, x: x, y: y, style: .key)
                    x = buffer.put(" \(what)  ", x: x, y: y, style: .dim)
                }
            }
        }
    }
}

struct TorrentListView {
    let glyphs: Glyphs

    func draw(_ buffer: inout CellBuffer, torrents: VisibleRows, state: UIState, rows: Range<Int>) {
        let width = buffer.width
        let columns = Column.fitting(width: width)
        let fixed = columns.reduce(0) { $0 + $1.width + 1 }
        let nameWidth = max(10, width - fixed - 1)
        // The sorted column's title carries an arrow: down for the order's natural direction.
        let arrow = state.sortReversed ? glyphs.up : glyphs.down
        func marked(_ title: String, _ order: SortOrder) -> String { state.sort == order ? title + arrow : title }
        var x = buffer.put(" " + marked("Name", .name).fitted(nameWidth), x: 0, y: rows.lowerBound, style: .header)
        for column in columns {
            let title = marked(column.title(glyphs), column.order)
            x = buffer.put(" " + title.fitted(column.width, alignRight: column != .progress && column != .state), x: x,
                           y: rows.lowerBound, style: .header)
        }
        let listRows = (rows.lowerBound + 1)..<rows.upperBound
        guard !torrents.isEmpty else {
            let empty = !state.filter.isEmpty
                ? "Nothing matches \"\(state.filter)\". Press / and clear the filter to see every torrent."
                : state.view != .all
                ? "No torrents in the view \(state.view.title). Press f for the next view."
                : "No torrents. Press a to add a .torrent file or a magnet link, or start Shoal with files or --watch DIR."
            buffer.put(empty, x: 2, y: listRows.lowerBound + 1, style: .dim)
            return
        }
        let selectedIndex = torrents.index(of: state.selectedID) ?? 0
        let (start, visible) = ScreenLayout(width: width, height: buffer.height).listWindow(count: torrents.count, selectedIndex: selectedIndex)
        for (row, torrent) in torrents.dropFirst(start).prefix(visible).enumerated() {
            let y = listRows.lowerBound + row
            let (stateText, stateStyle) = Format.activity(torrent)
            var cx = buffer.put(" " + torrent.name.fitted(nameWidth), x: 0, y: y, style: .text)
            for column in columns {
                switch column {
                case .size: cx = buffer.put(" " + Format.size(torrent.totalSize).fitted(10, alignRight: true), x: cx, y: y, style: .text)
                case .progress:
                    cx = buffer.put(" " + glyphs.bar(torrent.progress, width: 11), x: cx, y: y,
                                    style: torrent.isComplete ? .seeding : .pieceHave)
                    // "*": the share of the wanted files, when some are skipped (explained below the list).
                    let mark = torrent.wantedSize < torrent.totalSize ? "*" : " "
                    cx = buffer.put(Format.percent(torrent.progress).fitted(6, alignRight: true) + mark, x: cx, y: y, style: .text)
                case .state: cx = buffer.put(" " + stateText.fitted(12), x: cx, y: y, style: stateStyle)
                case .down:
                    cx = buffer.put(" " + Format.rate(torrent.downloadRate).fitted(12, alignRight: true), x: cx, y: y, style: .downloading)
                case .up: cx = buffer.put(" " + Format.rate(torrent.uploadRate).fitted(12, alignRight: true), x: cx, y: y, style: .seeding)
                case .eta: cx = buffer.put(" " + Format.eta(torrent.eta).fitted(8, alignRight: true), x: cx, y: y, style: .text)
                case .ratio: cx = buffer.put(" " + Format.ratio(torrent.ratio).fitted(6, alignRight: true), x: cx, y: y, style: .text)
                case .peers:
                    cx = buffer.put(" " + "\(torrent.peers.count)/\(torrent.seedCount)".fitted(7, alignRight: true), x: cx, y: y, style: .text)
                }
            }
            if torrent.id == state.selectedID { buffer.restyle(y: y, style: .selected) }
            if state.marked.contains(torrent.id) { buffer.put(glyphs.marked, x: 0, y: y, style: .key) }
        }
        let lastRow = rows.upperBound - 1
        let lastRowFree = torrents.count > visible || torrents.count - start < listRows.count
        if lastRowFree, torrents.dropFirst(start).prefix(visible).contains(where: { $0.wantedSize < $0.totalSize }) {
            buffer.put(" * progress of the wanted files: some are skipped", x: 0, y: lastRow, style: .dim)
        }
        if torrents.count > visible {
            let position = " \(start + 1)-\(min(torrents.count, start + visible)) of \(torrents.count) "
            buffer.put(position, x: width - position.count, y: lastRow, style: .dim)
        }
    }
}

extension TorrentListView {
    /// The list's columns right of the name. A narrow window drops the least needed first, so
    /// the name keeps room to be read.
    enum Column: CaseIterable {
        case size, progress, state, down, up, eta, ratio, peers

        var width: Int {
            switch self {
            case .size: return 10
            case .progress: return 18
            case .state: return 12
            case .down, .up: return 12
            case .eta: return 8
            case .ratio: return 6
            case .peers: return 7
            }
        }

        var order: SortOrder {
            switch self {
            case .size: .size
            case .progress: .progress
            case .state: .state
            case .down: .downloadRate
            case .up: .uploadRate
            case .eta: .eta
            case .ratio: .ratio
            case .peers: .peers
            }
        }

        func title(_ glyphs: Glyphs) -> String {
            switch self {
            case .size: return "Size"
            case .progress: return "Progress"
            case .state: return "State"
            case .down: return glyphs.down
            case .up: return glyphs.up
            case .eta: return "ETA"
            case .ratio: return "Ratio"
            case .peers: return "Peers"
            }
        }

        static let dropOrder: [Column] = [.ratio, .peers, .eta, .up, .size, .down, .state]
        static let minimumNameWidth = 16

        static func fitting(width: Int) -> [Column] {
            var kept = Set(allCases)
            for column in dropOrder {
                let used = kept.reduce(0) { $0 + $1.width + 1 } + 1
                if width - used >= minimumNameWidth { break }
                kept.remove(column)
            }
            return allCases.filter(kept.contains)
        }
    }
}
