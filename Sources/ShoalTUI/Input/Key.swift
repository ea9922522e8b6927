/// A key press, as the terminal layer reports it.
public enum Key: Sendable, Hashable {
    case character(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace, delete
    case resize
    /// A left click at a screen cell, and the wheel, where the terminal reports the mouse.
    case click(x: Int, y: Int)
    case scrollUp, scrollDown

    public var label: String {
        switch self {
        case .character(" "): return "Space"
        case .character(let c): return String(c)
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .home: return "Home"
        case .end: return "End"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .tab: return "Tab"
        case .backTab: return "S-Tab"
        case .backspace: return "Bksp"
        case .delete: return "Del"
        case .resize: return "resize"
        case .click: return "click"
        case .scrollUp: return "wheel ↑"
        case .scrollDown: return "wheel ↓"
        }
    }
}
