import Foundation
import ShoalCore
import ShoalEngine

public enum DetailTab: String, Sendable, CaseIterable, Hashable {
    case pieces = "Pieces", peers = "Peers", trackers = "Trackers", files = "Files", rates = "Rates", details = "Details"
}

/// Everything the interface remembers between frames: where the cursor is, which view and tab,
/// the sort and filter, a prompt being typed, and the rate history. Pure: keys in, commands out.
public struct UIState: Sendable {
    public enum Prompt: Sendable, Equatable {
        case addPath(String)
        case filter(String)
        /// A rate cap in KiB/s: the session's (no torrents) or those torrents' own.
        case limit(upload: Bool, String, torrents: [InfoHash] = [])
        /// The torrents the answer is for: the marked ones, or the one under the cursor.
        case move([InfoHash], String)
        case labels([InfoHash], String)
        /// A tracker URL: a new one (no index) or the one at that place in the Trackers tab.
        case tracker(InfoHash, index: Int?, String)
        case confirmRemove([InfoHash], name: String, deleteData: Bool)
        case confirmQuit(active: Int)
    }

    public var selectedID: InfoHash?
    /// Torrents marked with Space (or all with *): the list's keys act on all of them.
    public var marked: Set<InfoHash> = []
    public var inDetail = false
    public var tab: DetailTab = .pieces
    public var detailRow = 0
    /// The Files tab's folded folders, by torrent (paths inside the torrent).
    public var collapsedFolders: [InfoHash: Set<String>] = [:]
    public var sort: SortOrder = .added
    public var sortReversed = false
    public var view: TorrentView = .all
    public var filter = ""
    /// The last `visible` list (see `VisibleListCache`).
    let visibleList = VisibleListCache()
    public var prompt: Prompt?
    public var message: String?
    public var showHelp = false
    /// The Log view: its lines (the newest last, at most `RecentLog.capacity`) and how far back
    /// it is scrolled.
    public var showLog = false
    public var log: [String] = []
    public var logScroll = 0
    /// The colour theme drawn with, and those `T` steps through (the terminal side applies it).
    public var theme = "default"
    public var themes: [String] = []
    /// How far the help is scrolled, in lines.
    public var helpScroll = 0
    public var history = RateHistory()
    /// The window, for mapping mouse clicks to rows and tabs.
    public var layout = ScreenLayout(width: 80, height: 24)
    /// Lists a directory for the add prompt's Tab completion (the local disk unless a test says).
    public var listDirectory: PathCompletion.Lister = PathCompletion.local
    public var homeDirectory = NSHomeDirectory()
    /// Attached to a daemon: quitting only detaches, so it asks nothing first.
    public var detaches = false

    public init() {}

    /// Torrents doing something a quit would interrupt: downloading, checking, or seeding to
    /// connected peers.
    public static func activeCount(_ snapshot: SessionSnapshot) -> Int {
        snapshot.torrents.filter { torrent in
            switch torrent.activity {
            case .downloading, .checking: return true
            case .seeding: return !torrent.peers.isEmpty
            default: return false
            }
        }.count
    }

    private mutating func quit(_ snapshot: SessionSnapshot) -> [UICommand] {
        let active = Self.activeCount(snapshot)
        if active == 0 || detaches { return [.quit] }
        prompt = .confirmQuit(active: active)
        return []
    }

    /// The torrents shown in the list, filtered and sorted (see `VisibleListCache`).
    public func visible(_ snapshot: SessionSnapshot) -> VisibleRows {
        visibleList.rows(snapshot.torrents, .init(view: view, filter: filter, sort: sort, reversed: sortReversed))
    }

    public func selected(_ snapshot: SessionSnapshot) -> TorrentSnapshot? {
        let list = visible(snapshot)
        return list.index(of: selectedID).map { list[$0] } ?? list.first
    }

    /// Takes in a new snapshot: keeps the selection valid and records rates.
    public mutating func observe(_ snapshot: SessionSnapshot, now: ContinuousClock.Instant) {
        history.record(snapshot, now: now)
        let list = visible(snapshot)
        if list.index(of: selectedID) == nil { selectedID = list.first?.id }
        if list.isEmpty { inDetail = false }
        if !marked.isEmpty { marked.formIntersection(snapshot.torrents.map(\.id)) }
    }

    public mutating func handle(_ key: Key, snapshot: SessionSnapshot, pageSize: Int) -> [UICommand] {
        if let prompt { return handlePrompt(key, prompt: prompt, snapshot: snapshot) }
        if showHelp {
            scrollHelp(key)
            return []
        }
        if showLog, scrollLog(key) { return [] }
        message = nil
        if case .click(let x, let y) = key { return click(x: x, y: y, snapshot: snapshot) }
        guard let action = Keymap.action(for: key, inDetail: inDetail, tab: tab) else { return [] }
        let list = visible(snapshot)
        let current = selected(snapshot)
        switch action {
        case .quit: return quit(snapshot)
        case .help:
            showHelp = true
            helpScroll = 0
        case .up, .down, .pageUp, .pageDown, .top, .bottom:
            move(action, list: list, current: current, pageSize: pageSize)
        case .open: if current != nil { inDetail = true; detailRow = 0 }
        case .back: inDetail = false
        case .nextTab: switchTab(by: 1)
        case .previousTab: switchTab(by: -1)
        case .tab(let target): tab = target; detailRow = 0
        case .add: prompt = .addPath("")
        case .filter: prompt = .filter(filter)
        case .sort:
            let all = SortOrder.allCases
            sort = all[(all.firstIndex(of: sort)! + 1) % all.count]
            message = "sorted by \(sort.rawValue)\(sortReversed ? ", reversed" : "")"
        case .reverseSort:
            sortReversed.toggle()
            message = "sorted by \(sort.rawValue)\(sortReversed ? ", reversed" : "")"
        case .nextView, .previousView:
            let views = TorrentView.available(snapshot)
            let index = views.firstIndex(of: view) ?? 0
            view = views[(index + (action == .nextView ? 1 : views.count - 1)) % views.count]
            message = "showing \(view.title): \(snapshot.torrents.filter(view.contains).count) of \(snapshot.torrents.count)"
        case .torrentUploadLimit, .torrentDownloadLimit:
            guard let current else { return [] }
            prompt = .limit(upload: action == .torrentUploadLimit, "", torrents: targets(list, current).map(\.id))
        case .altSpeed:
            message = snapshot.altSpeedEnabled ? "normal limits" : "alternative (turtle) limits"
            return [.setAltSpeed(!snapshot.altSpeedEnabled)]
        case .move:
            guard let current else { return [] }
            let place = current.details.location.isEmpty ? current.downloadDirectory : current.details.location
            prompt = .move(targets(list, current).map(\.id), place.hasSuffix("/") ? place : place + "/")
        case .sequential:
            guard let current else { return [] }
            let chosen = targets(list, current)
            let on = !current.details.sequential
            message = on ? "\(Self.name(chosen)): downloading in order, each file's first and last pieces first"
                : "\(Self.name(chosen)): rarest pieces first again"
            return chosen.map { .setSequential($0.id, on) }
        case .showLog:
            showLog.toggle()
            logScroll = 0
        case .nextTheme:
            guard !themes.isEmpty else { return [] }
            theme = themes[((themes.firstIndex(of: theme) ?? -1) + 1) % themes.count]
            message = "theme \(theme) (theme = \"\(theme)\" in config.toml keeps it)"
        case .labels:
            guard let current else { return [] }
            prompt = .labels(targets(list, current).map(\.id), current.details.labels.joined(separator: ", "))
        case .pauseResume:
            guard let current else { return [] }
            let chosen = targets(list, current)
            // A torrent stopped by an error (a full disk, say) is retried like a paused one.
            let stopped = { (t: TorrentSnapshot) in t.activity == .paused || t.activity == .error }
            if chosen.count > 1 {
                // Marked ones together: any still running pauses them all, else all resume.
                let pausing = chosen.contains { !stopped($0) }
                message = "\(pausing ? "paused" : "resumed") \(chosen.count) torrents"
                return chosen.map { pausing ? .pause($0.id) : .resume($0.id) }
            }
            if stopped(current) {
                if current.activity == .error { message = "\(current.name): trying again" }
                return [.resume(current.id)]
            }
            return [.pause(current.id)]
        case .queueUp, .queueDown, .queueTop, .queueBottom:
            guard let current else { return [] }
            let move: Session.QueueMove = switch action {
            case .queueUp: .up
            case .queueDown: .down
            case .queueTop: .top
            default: .bottom
            }
            // The list shows the queue order only unsorted: say so rather than seem to do nothing.
            if sort != .added || sortReversed { message = "the queue order shows with the list unsorted (s until \"added\")" }
            // Several marked: moved one by one, keeping their order (the last first when moving down).
            let chosen = targets(list, current)
            let ordered = move == .down || move == .top ? chosen.reversed() : chosen
            return ordered.map { .moveInQueue($0.id, move) }
        case .mark:
            guard let current, !inDetail else { return [] }
            if marked.remove(current.id) == nil { marked.insert(current.id) }
            move(.down, list: list, current: current, pageSize: pageSize)
        case .markAll:
            let ids = Set(list.map(\.id))
            marked = ids.isSubset(of: marked) ? [] : ids
            message = marked.isEmpty ? "none marked" : "\(marked.count) marked: keys act on them all"
        case .pauseResumeAll:
            let active = snapshot.torrents.filter { $0.activity != .paused }
            if active.isEmpty {
                message = "resumed every torrent"
                return snapshot.torrents.map { .resume($0.id) }
            }
            message = "paused every torrent"
            return active.map { .pause($0.id) }
        case .verify:
            guard let current else { return [] }
            let chosen = targets(list, current)
            message = "\(Self.name(chosen)): checking every piece again"
            return chosen.map { .verify($0.id) }
        case .reannounce:
            guard let current else { return [] }
            let chosen = targets(list, current)
            message = "\(Self.name(chosen)): asking the trackers for peers"
            return chosen.map { .reannounce($0.id) }
        case .uploadLimit: prompt = .limit(upload: true, "")
        case .downloadLimit: prompt = .limit(upload: false, "")
        case .toggleSeeding:
            guard let current else { return [] }
            let chosen = targets(list, current)
            let seed = current.activity != .seeding
            message = seed ? "\(Self.name(chosen)): will seed when complete" : "\(Self.name(chosen)): stops seeding when complete"
            return chosen.map { .setSeeding($0.id, seed) }
        case .remove, .removeWithData:
            guard let current else { return [] }
            let chosen = targets(list, current)
            prompt = .confirmRemove(chosen.map(\.id), name: Self.name(chosen), deleteData: action == .removeWithData)
        case .addTracker:
            guard let current else { return [] }
            prompt = .tracker(current.id, index: nil, "")
        case .editTracker, .removeTracker:
            guard let current, !current.trackers.isEmpty else { return [] }
            let index = min(detailRow, current.trackers.count - 1)
            if action == .editTracker {
                prompt = .tracker(current.id, index: index, current.trackers[index].url)
                return []
            }
            message = "removed \(current.trackers[index].url)"
            var flat = current.trackers.map { ($0.tier, Optional($0.url)) }
            flat[index].1 = nil
            return [.setTrackers(current.id, Self.tiers(flat))]
        case .kickPeer, .banPeer:
            guard let current, !current.peers.isEmpty else { return [] }
            let peer = current.peers[min(detailRow, current.peers.count - 1)]
            message = action == .banPeer ? "banning \(peer.address)" : "closing the connection to \(peer.address)"
            return [.closePeer(current.id, address: peer.address, ban: action == .banPeer)]
        case .priorityUp, .priorityDown, .skipFile:
            guard let current, let row = fileRow(current) else { return [] }
            let priorities = current.files.map(\.priority)
            let changed = action == .skipFile ? FileTree.toggledSkip(priorities, row: row)
                : FileTree.stepped(priorities, row: row, by: action == .priorityUp ? 1 : -1)
            if row.folder != nil, let first = row.files.first, row.files.allSatisfy({ changed[$0] == changed[first] }) {
                let level = changed[first]
                message = "\(row.name)/: \(row.files.count) files \(level.label)"
            }
            return [.setFilePriorities(current.id, changed)]
        case .toggleFolder:
            guard let current, let row = fileRow(current), let folder = row.folder else { return [] }
            if collapsedFolders[current.id, default: []].remove(folder) == nil { collapsedFolders[current.id, default: []].insert(folder) }
        }
        return []
    }

    /// A click selects a torrent (a click on the selected one opens it), a tab, or a file row.
    private mutating func click(x: Int, y: Int, snapshot: SessionSnapshot) -> [UICommand] {
        if inDetail {
            if y == layout.tabBarY, let hit = ScreenLayout.tabs.first(where: { $0.1.contains(x) }) {
                tab = hit.0
                detailRow = 0
            } else if tab == .files, let current = selected(snapshot), y >= layout.detailTableFirstRow, y < layout.body.upperBound {
                let count = fileTree(current).rows.count
                let visible = layout.body.upperBound - layout.detailTableFirstRow
                let start = max(0, min(detailRow, count - 1) - visible + 1)
                let row = start + y - layout.detailTableFirstRow
                if row < count { detailRow = row }
            }
            return []
        }
        let list = visible(snapshot)
        guard layout.listRows.contains(y), !list.isEmpty else { return [] }
        let index = list.index(of: selectedID) ?? 0
        let window = layout.listWindow(count: list.count, selectedIndex: index)
        let row = y - layout.listRows.lowerBound
        guard row < window.visible, window.start + row < list.count else { return [] }
        let target = list[window.start + row]
        if target.id == selectedID {
            inDetail = true
            detailRow = 0
        } else {
            selectedID = target.id
        }
        return []
    }

    /// The Files tab's rows for this torrent, as drawn.
    public func fileTree(_ torrent: TorrentSnapshot) -> FileTree {
        FileTree(files: torrent.files, collapsed: collapsedFolders[torrent.id] ?? [])
    }

    /// The Files tab's row under the cursor.
    private func fileRow(_ torrent: TorrentSnapshot) -> FileTree.Row? {
        let rows = fileTree(torrent).rows
        return rows.isEmpty ? nil : rows[min(detailRow, rows.count - 1)]
    }

    /// What a key acts on: the marked torrents still listed, or else the one under the cursor
    /// (in the details, always that one).
    func targets(_ list: VisibleRows, _ current: TorrentSnapshot) -> [TorrentSnapshot] {
        guard !marked.isEmpty, !inDetail else { return [current] }
        let chosen = list.filter { marked.contains($0.id) }
        return chosen.isEmpty ? [current] : chosen
    }

    static func name(_ torrents: [TorrentSnapshot]) -> String {
        torrents.count == 1 ? torrents[0].name : "\(torrents.count) torrents"
    }

    static func tiers(_ flat: [(Int, String?)]) -> [[String]] { TrackerListEdit.tiers(flat.map { (tier: $0.0, url: $0.1) }) }

    /// Takes in log lines from the engine, keeping the last few hundred.
    public mutating func receiveLog(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        log += lines
        if log.count > 500 { log.removeFirst(log.count - 500) }
        if logScroll > 0 { logScroll += lines.count }  // a reader scrolled back stays on the same lines
    }

    /// In the Log view the moving keys scroll it and Esc closes it; other keys act as usual.
    private mutating func scrollLog(_ key: Key) -> Bool {
        let page = max(1, layout.body.count - 2)
        switch Keymap.action(for: key, inDetail: false) {
        case .up?: logScroll += 1
        case .down?: logScroll = max(0, logScroll - 1)
        case .pageUp?: logScroll += page
        case .pageDown?: logScroll = max(0, logScroll - page)
        case .top?: logScroll = log.count
        case .bottom?: logScroll = 0
        default:
            guard key == .escape else { return false }
            showLog = false
        }
        logScroll = min(logScroll, max(0, log.count - page))
        return true
    }

    /// In the help: the moving keys scroll it, Esc, q and ? close it, any other key too.
    private mutating func scrollHelp(_ key: Key) {
        let page = max(1, layout.height - 4)
        let step: Int
        switch Keymap.action(for: key, inDetail: false) {
        case .up?: step = -1
        case .down?: step = 1
        case .pageUp?: step = -page
        case .pageDown?: step = page
        case .top?: step = Int.min / 2
        case .bottom?: step = Int.max / 2
        default:
            showHelp = false
            return
        }
        helpScroll = min(max(0, helpScroll + step), HelpView.maxScroll(width: layout.width, height: layout.height))
    }

    private mutating func switchTab(by step: Int) {
        let all = DetailTab.allCases
        tab = all[(all.firstIndex(of: tab)! + step + all.count) % all.count]
        detailRow = 0
    }

    private mutating func move(_ action: Action, list: VisibleRows, current: TorrentSnapshot?, pageSize: Int) {
        let step: Int
        switch action {
        case .up: step = -1
        case .down: step = 1
        case .pageUp: step = -max(1, pageSize)
        case .pageDown: step = max(1, pageSize)
        case .top: step = Int.min / 2
        default: step = Int.max / 2
        }
        if inDetail {
            detailRow = max(0, detailRow + step)
            return
        }
        guard !list.isEmpty else { return }
        let index = list.index(of: current?.id) ?? 0
        let target = min(list.count - 1, max(0, index + step))
        selectedID = list[target].id
    }

}
