/// Where things are on the screen, shared by the views that draw them and the mouse handling
/// that maps a click back to a row or a tab.
public struct ScreenLayout: Sendable, Equatable {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Rows between the title line and the status bar.
    public var body: Range<Int> { 1..<max(1, height - 2) }
    /// The torrent list's first row (under its header).
    public var listRows: Range<Int> { (body.lowerBound + 1)..<max(body.lowerBound + 1, body.upperBound) }

    /// Which torrents the list shows: a list longer than the window gives up its last row to a
    /// "41-60 of 3000" line and scrolls to keep the selection in view.
    public func listWindow(count: Int, selectedIndex: Int) -> (start: Int, visible: Int) {
        let rows = listRows.count
        let visible = count > rows ? max(0, rows - 1) : rows
        let offset = min(max(0, selectedIndex - visible + 1), max(0, selectedIndex))
        return (max(0, min(offset, count - visible)), visible)
    }

    /// The detail view's tab bar line, and each tab's columns on it.
    public var tabBarY: Int { body.lowerBound + 2 }
    public static let tabs: [(DetailTab, Range<Int>)] = {
        var x = 1
        return DetailTab.allCases.enumerated().map { index, tab in
            let width = " \(index + 1) \(tab.rawValue) ".count
            defer { x += width + 1 }
            return (tab, x..<(x + width))
        }
    }()
    public static func tabLabel(_ tab: DetailTab) -> String {
        " \((DetailTab.allCases.firstIndex(of: tab) ?? 0) + 1) \(tab.rawValue) "
    }

    /// The first row of a detail tab's table (under its header).
    public var detailTableFirstRow: Int { tabBarY + 2 }
}
