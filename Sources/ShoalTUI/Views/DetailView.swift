import ShoalCore
import ShoalEngine

/// One torrent in depth: a summary, a tab bar, and the chosen tab.
struct DetailView {
    let glyphs: Glyphs

    func draw(_ buffer: inout CellBuffer, torrent: TorrentSnapshot, state: UIState, rows: Range<Int>, now: ContinuousClock.Instant) {
        var y = rows.lowerBound
        let (stateText, stateStyle) = Format.activity(torrent)
        var x = buffer.put(" " + torrent.name, x: 0, y: y, style: .title, maxWidth: buffer.width / 2)
        x = buffer.put("  " + stateText, x: x, y: y, style: stateStyle)
        if let error = torrent.error { buffer.put("  " + error, x: x, y: y, style: .error) }
        y += 1
        let wanted = torrent.wantedSize < torrent.totalSize
            ? "\(Format.size(torrent.wantedSize)) wanted of \(Format.size(torrent.totalSize))" : Format.size(torrent.wantedSize)
        let summary = "\(Format.size(torrent.haveSize)) of \(wanted) (\(Format.percent(torrent.progress)))"
            + "   \(glyphs.down) \(Format.rate(torrent.downloadRate))   \(glyphs.up) \(Format.rate(torrent.uploadRate))"
            + "   ratio \(Format.ratio(torrent.ratio))   eta \(Format.eta(torrent.eta))"
            + (torrent.bannedPeers > 0 ? "   banned \(torrent.bannedPeers)" : "")
        buffer.put(" " + summary, x: 0, y: y, style: .text)
        y += 1
        for (tab, columns) in ScreenLayout.tabs {
            buffer.put(ScreenLayout.tabLabel(tab), x: columns.lowerBound, y: y, style: tab == state.tab ? .selected : .dim)
        }
        y += 1
        let body = y..<rows.upperBound
        guard !body.isEmpty else { return }
        switch state.tab {
        case .pieces: PieceMapView(glyphs: glyphs).draw(&buffer, torrent: torrent, rows: body)
        case .peers: drawPeers(&buffer, torrent, rows: body, selected: state.detailRow, now: now)
        case .trackers: drawTrackers(&buffer, torrent, rows: body, now: now, selected: state.detailRow)
        case .files: drawFiles(&buffer, torrent, tree: state.fileTree(torrent), rows: body, selected: state.detailRow)
        case .rates: RateGraphView(glyphs: glyphs).draw(&buffer, series: state.history.series(for: torrent.id), rows: body)
        case .details: TorrentDetailsView(glyphs: glyphs).draw(&buffer, torrent: torrent, rows: body)
        }
    }

    private func table(_ buffer: inout CellBuffer, header: [(String, Int, Bool)], rows: Range<Int>) -> Int {
        var x = 1
        for (title, width, right) in header { x = buffer.put(title.fitted(width, alignRight: right) + " ", x: x, y: rows.lowerBound, style: .header) }
        return rows.lowerBound + 1
    }

    private func drawPeers(_ buffer: inout CellBuffer, _ torrent: TorrentSnapshot, rows: Range<Int>, selected: Int,
                           now: ContinuousClock.Instant) {
        let barWidth = max(8, buffer.width - 96)
        var y = table(&buffer, header: [("Address", 22, false), ("Client", 22, false), ("Flags", 6, false), ("\(glyphs.down)", 13, true),
                                        ("\(glyphs.up)", 13, true), ("Have", 6, true), ("Pieces", barWidth, false)], rows: rows)
        // The last row says how connections ended, so "no peers" has an answer to "why".
        let closes = torrent.closeReasons
        let summaryRow = closes.total > 0 && rows.count >= 3 ? rows.upperBound - 1 : nil
        if let summaryRow { buffer.put(" " + closes.summary, x: 0, y: summaryRow, style: .dim, maxWidth: buffer.width) }
        if torrent.peers.isEmpty && torrent.details.webSeeds.isEmpty { buffer.put("no peers connected", x: 2, y: y, style: .dim) }
        // The selected peer (for k and K) stays in view.
        let visible = max(1, (summaryRow ?? rows.upperBound) - y)
        let row = min(selected, max(0, torrent.peers.count - 1))
        let start = max(0, row - visible + 1)
        for (index, peer) in torrent.peers.enumerated().dropFirst(start).prefix(visible) {
            var x = buffer.put(" " + peer.address.fitted(22) + " ", x: 0, y: y, style: .text)
            x = buffer.put(peer.client.fitted(22) + " ", x: x, y: y, style: .dim)
            x = buffer.put(peer.flags.fitted(6) + " ", x: x, y: y, style: .key)
            x = buffer.put(Format.rate(peer.downloadRate).fitted(13, alignRight: true) + " ", x: x, y: y, style: .downloading)
            x = buffer.put(Format.rate(peer.uploadRate).fitted(13, alignRight: true) + " ", x: x, y: y, style: .seeding)
            x = buffer.put(Format.percent(peer.progress).fitted(6, alignRight: true) + " ", x: x, y: y, style: .text)
            buffer.put(Self.compressed(peer.pieces, cells: barWidth, glyphs: glyphs), x: x, y: y, style: .pieceHave)
            if index == row { buffer.restyle(y: y, style: .selected) }
            y += 1
        }
        // Web seeds under the peers, flagged W (Transmission's letter); their state, which can
        // be long ("retry in 30 s: connection refused"), where a peer's upload and pieces are:
        // a server takes nothing and has every piece.
        for seed in torrent.details.webSeeds.prefix(max(0, (summaryRow ?? rows.upperBound) - y)) {
            var x = buffer.put(" " + Self.host(of: seed.url).fitted(22) + " ", x: 0, y: y, style: .text)
            x = buffer.put("web seed".fitted(22) + " ", x: x, y: y, style: .dim)
            x = buffer.put((seed.isSending ? "WD" : "W").fitted(6) + " ", x: x, y: y, style: .key)
            x = buffer.put(Format.rate(seed.downloadRate).fitted(13, alignRight: true) + "  ", x: x, y: y, style: .downloading)
            let status = seed.status(now: now)
            buffer.put(status, x: x, y: y, style: seed.server.droppedFor != nil ? .error : .dim, maxWidth: max(0, buffer.width - x))
            y += 1
        }
    }

    /// `host[:port]` of a URL, as a peer's address is shown.
    static func host(of url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        return String(rest.prefix { $0 != "/" && $0 != "?" })
    }

    /// A bitfield squeezed into `cells` characters, each showing the share of its pieces present.
    static func compressed(_ bits: Bitfield, cells: Int, glyphs: Glyphs) -> String {
        guard bits.count > 0, cells > 0 else { return "" }
        var out = ""
        for cell in 0..<cells {
            let start = bits.count * cell / cells
            let end = max(start + 1, bits.count * (cell + 1) / cells)
            let have = (start..<min(end, bits.count)).filter { bits[$0] }.count
            out += glyphs.levels[Int((Double(have) / Double(end - start) * 8).rounded())]
        }
        return out
    }

    private func drawTrackers(_ buffer: inout CellBuffer, _ torrent: TorrentSnapshot, rows: Range<Int>, now: ContinuousClock.Instant,
                              selected: Int) {
        let (urlWidth, statusWidth) = Self.trackerColumns(torrent.trackers, width: buffer.width)
        var y = table(&buffer, header: [("Tier", 4, true), ("URL", urlWidth, false), ("Status", statusWidth, false), ("Last", 12, true),
                                        ("Next", 12, true), ("Seeds", 6, true), ("Leech", 6, true), ("Done", 6, true),
                                        ("Peers", 6, true)], rows: rows)
        if torrent.trackers.isEmpty { buffer.put("no trackers: i adds one", x: 2, y: y, style: .dim) }
        let row = min(selected, max(0, torrent.trackers.count - 1))
        let visible = max(1, rows.upperBound - y)
        for (index, tracker) in torrent.trackers.enumerated().dropFirst(max(0, row - visible + 1)).prefix(visible) {
            let status = tracker.error.map { "error: \($0)" } ?? tracker.status
            var x = buffer.put(" " + String(tracker.tier + 1).fitted(4, alignRight: true) + " ", x: 0, y: y, style: .text)
            x = buffer.put(tracker.url.fitted(urlWidth) + " ", x: x, y: y, style: .text)
            x = buffer.put(status.fitted(statusWidth) + " ", x: x, y: y, style: tracker.error == nil ? .downloading : .error)
            x = buffer.put(Format.ago(tracker.lastAnnounce, now: now).fitted(12, alignRight: true) + " ", x: x, y: y, style: .dim)
            x = buffer.put(Format.until(tracker.nextAnnounce, now: now).fitted(12, alignRight: true) + " ", x: x, y: y, style: .dim)
            x = buffer.put((tracker.seeders.map(String.init) ?? "-").fitted(6, alignRight: true) + " ", x: x, y: y, style: .text)
            x = buffer.put((tracker.leechers.map(String.init) ?? "-").fitted(6, alignRight: true) + " ", x: x, y: y, style: .text)
            x = buffer.put((tracker.completed.map(String.init) ?? "-").fitted(6, alignRight: true) + " ", x: x, y: y, style: .text)
            buffer.put(String(tracker.peersReturned).fitted(6, alignRight: true), x: x, y: y, style: .text)
            if index == row { buffer.restyle(y: y, style: .selected) }
            y += 1
        }
    }

    /// The URL and Status columns share what the fixed columns leave: the URL gets its whole
    /// length first, the status what remains (the error text is the longer one to cut).
    static func trackerColumns(_ trackers: [TrackerSnapshot], width: Int) -> (url: Int, status: Int) {
        let fixed = 1 + 5 + 2 * 13 + 4 * 7 + 1  // the margin, Tier, Last and Next, the counts, the two columns' gaps
        let available = max(28, width - fixed)
        let urlNeed = max(20, trackers.map { DisplayWidth.of($0.url) }.max() ?? 0)
        let statusNeed = max(8, trackers.map { DisplayWidth.of($0.error.map { "error: \($0)" } ?? $0.status) }.max() ?? 0)
        let url = min(urlNeed, max(20, available - min(statusNeed, 16)))
        return (url, max(8, available - url))
    }

    private func drawFiles(_ buffer: inout CellBuffer, _ torrent: TorrentSnapshot, tree: FileTree, rows: Range<Int>, selected: Int) {
        let pathWidth = max(20, buffer.width - 50)
        var y = table(&buffer, header: [("Path", pathWidth, false), ("Size", 11, true), ("Progress", 18, false), ("Priority", 9, false)],
                      rows: rows)
        let visible = rows.upperBound - y
        let row = min(selected, max(0, tree.rows.count - 1))
        let start = max(0, row - visible + 1)
        for (index, file) in tree.rows.enumerated().dropFirst(start).prefix(visible) {
            let fraction = file.size == 0 ? 1 : Double(file.haveSize) / Double(file.size)
            // Folders carry a fold marker and a "/", files line up under their folder's name.
            let marker = file.folder == nil ? "  " : (file.collapsed ? glyphs.folded : glyphs.unfolded) + " "
            let name = String(repeating: "  ", count: file.depth) + marker + file.name + (file.folder == nil ? "" : "/")
            var x = buffer.put(" " + name.fitted(pathWidth) + " ", x: 0, y: y, style: file.priority == .skip ? .dim : .text)
            x = buffer.put(Format.size(file.size).fitted(11, alignRight: true) + " ", x: x, y: y, style: .text)
            x = buffer.put(glyphs.bar(fraction, width: 11), x: x, y: y, style: .pieceHave)
            x = buffer.put(Format.percent(fraction).fitted(7, alignRight: true) + " ", x: x, y: y, style: .text)
            let style: StyleSlot = switch file.priority {
            case .skip?, .low?: .dim
            case .normal?: .text
            case .high?, nil: .key
            }
            buffer.put(file.priority?.label ?? "mixed", x: x, y: y, style: style)
            if index == row { buffer.restyle(y: y, style: .selected) }
            y += 1
        }
    }
}
