/// What a key does. The help screen is generated from this table, so it cannot go stale.
public enum Action: Sendable, Hashable {
    case quit, help, up, down, pageUp, pageDown, top, bottom
    case open, back, nextTab, previousTab, tab(DetailTab)
    case add, pauseResume, pauseResumeAll, toggleSeeding, remove, removeWithData, sort, filter, verify, reannounce
    case uploadLimit, downloadLimit, torrentUploadLimit, torrentDownloadLimit, altSpeed
    case move, labels, reverseSort, nextView, previousView, nextTheme, showLog, sequential, mark, markAll
    case queueUp, queueDown, queueTop, queueBottom
    case priorityUp, priorityDown, skipFile, toggleFolder, kickPeer, banPeer, addTracker, editTracker, removeTracker
}

public struct KeyBinding: Sendable {
    public enum Context: String, Sendable {
        case everywhere = "everywhere", list = "torrent list", detail = "detail", files = "files tab", peers = "peers tab"
        case trackers = "trackers tab"
    }
    public let keys: [Key]
    public let action: Action
    public let context: Context
    public let description: String
}

public enum Keymap {
    public static let bindings: [KeyBinding] = [
        .init(keys: [.up, .character("k"), .scrollUp], action: .up, context: .everywhere, description: "move up"),
        .init(keys: [.down, .character("j"), .scrollDown], action: .down, context: .everywhere, description: "move down"),
        .init(keys: [.pageUp], action: .pageUp, context: .everywhere, description: "page up"),
        .init(keys: [.pageDown], action: .pageDown, context: .everywhere, description: "page down"),
        .init(keys: [.home, .character("g")], action: .top, context: .everywhere, description: "first"),
        .init(keys: [.end, .character("G")], action: .bottom, context: .everywhere, description: "last"),
        .init(keys: [.enter, .right, .character("l")], action: .open, context: .list, description: "open the torrent's details"),
        .init(keys: [.escape, .left, .character("h")], action: .back, context: .detail, description: "back to the list"),
        .init(keys: [.tab], action: .nextTab, context: .detail, description: "next tab"),
        .init(keys: [.backTab], action: .previousTab, context: .detail, description: "previous tab"),
        .init(keys: [.character("1")], action: .tab(.pieces), context: .detail, description: "pieces tab"),
        .init(keys: [.character("2")], action: .tab(.peers), context: .detail, description: "peers tab"),
        .init(keys: [.character("3")], action: .tab(.trackers), context: .detail, description: "trackers tab"),
        .init(keys: [.character("4")], action: .tab(.files), context: .detail, description: "files tab"),
        .init(keys: [.character("5")], action: .tab(.rates), context: .detail, description: "rates tab"),
        .init(keys: [.character("6")], action: .tab(.details), context: .detail, description: "details tab"),
        .init(keys: [.character("a")], action: .add, context: .everywhere, description: "add a .torrent or magnet (Tab completes)"),
        .init(keys: [.character("p")], action: .pauseResume, context: .everywhere, description: "pause / resume"),
        .init(keys: [.character("P")], action: .pauseResumeAll, context: .everywhere, description: "pause all / resume all"),
        .init(keys: [.character("v")], action: .verify, context: .everywhere, description: "verify the data again (full recheck)"),
        .init(keys: [.character("A"), .character("n")], action: .reannounce, context: .everywhere,
              description: "ask the trackers for more peers now"),
        .init(keys: [.character("u")], action: .uploadLimit, context: .everywhere, description: "set the global upload limit"),
        .init(keys: [.character("d")], action: .downloadLimit, context: .everywhere, description: "set the global download limit"),
        .init(keys: [.character("U")], action: .torrentUploadLimit, context: .everywhere, description: "set this torrent's upload limit"),
        .init(keys: [.character("D")], action: .torrentDownloadLimit, context: .everywhere, description: "set this torrent's download limit"),
        .init(keys: [.character("t")], action: .altSpeed, context: .everywhere, description: "alternative (turtle) limits on / off"),
        .init(keys: [.character("m")], action: .move, context: .everywhere, description: "move the data to another directory"),
        .init(keys: [.character("b")], action: .labels, context: .everywhere, description: "set labels"),
        .init(keys: [.character("z")], action: .sequential, context: .everywhere, description: "sequential download on / off"),
        .init(keys: [.character("S")], action: .toggleSeeding, context: .everywhere, description: "seed when done on / off"),
        .init(keys: [.character("r")], action: .remove, context: .everywhere, description: "remove (keep data)"),
        .init(keys: [.character("R")], action: .removeWithData, context: .everywhere, description: "remove and delete data"),
        .init(keys: [.character("s")], action: .sort, context: .list, description: "sort by the next column"),
        .init(keys: [.character("O")], action: .reverseSort, context: .list, description: "reverse the sort order"),
        .init(keys: [.character("f")], action: .nextView, context: .list, description: "next view (state, label)"),
        .init(keys: [.character("F")], action: .previousView, context: .list, description: "previous view"),
        .init(keys: [.character("/")], action: .filter, context: .list, description: "filter by name"),
        .init(keys: [.character("K")], action: .queueUp, context: .list, description: "one up in the queue"),
        .init(keys: [.character("J")], action: .queueDown, context: .list, description: "one down in the queue"),
        .init(keys: [.character("[")], action: .queueTop, context: .list, description: "to the top of the queue"),
        .init(keys: [.character("]")], action: .queueBottom, context: .list, description: "to the bottom of the queue"),
        .init(keys: [.character(" ")], action: .mark, context: .list, description: "mark / unmark (keys act on all marked)"),
        .init(keys: [.character("*")], action: .markAll, context: .list, description: "mark all shown / none"),
        .init(keys: [.character("+")], action: .priorityUp, context: .files, description: "raise priority (skip low normal high)"),
        .init(keys: [.character("-")], action: .priorityDown, context: .files, description: "lower priority (a folder: all in it)"),
        .init(keys: [.character("x")], action: .skipFile, context: .files, description: "skip / unskip (a folder: all in it)"),
        .init(keys: [.enter, .character(" ")], action: .toggleFolder, context: .files, description: "fold / unfold a folder"),
        .init(keys: [.character("k")], action: .kickPeer, context: .peers, description: "close the connection to this peer"),
        .init(keys: [.character("K")], action: .banPeer, context: .peers, description: "ban this peer's address"),
        .init(keys: [.character("i")], action: .addTracker, context: .trackers, description: "add a tracker (a new tier)"),
        .init(keys: [.character("e")], action: .editTracker, context: .trackers, description: "edit this tracker's URL"),
        .init(keys: [.character("x"), .delete], action: .removeTracker, context: .trackers, description: "remove this tracker"),
        .init(keys: [.character("L")], action: .showLog, context: .everywhere, description: "the log: why peers went, errors"),
        .init(keys: [.character("T")], action: .nextTheme, context: .everywhere, description: "next colour theme"),
        .init(keys: [.character("?"), .character("H")], action: .help, context: .everywhere, description: "this help"),
        .init(keys: [.character("q")], action: .quit, context: .everywhere, description: "quit (asks while torrents are active)"),
    ]

    /// A tab's own keys come first: in the Peers tab `k` kicks, elsewhere it moves up.
    public static func action(for key: Key, inDetail: Bool, tab: DetailTab? = nil) -> Action? {
        func applies(_ context: KeyBinding.Context) -> Bool {
            switch context {
            case .everywhere: true
            case .list: !inDetail
            case .detail: inDetail
            case .files: inDetail && tab == .files
            case .peers: inDetail && tab == .peers
            case .trackers: inDetail && tab == .trackers
            }
        }
        let candidates = bindings.filter { $0.keys.contains(key) && applies($0.context) }
        return (candidates.first { [.files, .peers, .trackers].contains($0.context) } ?? candidates.first)?.action
    }
}
