import CNcurses
import Foundation
import ShoalTUI

/// The only code that talks to ncurses. Not thread-safe, like ncurses itself: one thread creates
/// it and makes every call.
public final class Terminal {
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    public private(set) var width: Int = 0
    public private(set) var height: Int = 0
    /// False when the locale is not UTF-8: draw with ASCII glyphs.
    public let unicode: Bool
    private var pairs: [StyleSlot: (pair: Int16, attributes: Int32)] = [:]
    private var screen: OpaquePointer?

    /// Takes over the terminal. Refuses (with a reason) when stdout is not a terminal or TERM
    /// cannot drive a full-screen interface.
    public init(theme: Theme) throws(Unavailable) {
        guard isatty(STDOUT_FILENO) == 1, isatty(STDIN_FILENO) == 1 else {
            throw Unavailable(description: "standard input and output must be a terminal for the full-screen interface; use --headless")
        }
        let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
        guard !term.isEmpty, term != "dumb" else {
            throw Unavailable(description: "TERM is '\(term)', which cannot show the full-screen interface; use --headless")
        }
        // The thread that creates the terminal is the one that draws on it from now on.
        shoal_name_this_thread("shoal-terminal")
        setlocale(LC_ALL, "")
        unicode = shoal_locale_is_utf8() == 1
        // newterm, unlike initscr, reports an unknown TERM instead of exiting the process.
        guard let created = shoal_newterm() else {
            throw Unavailable(description: "ncurses does not know the terminal '\(term)'; use --headless")
        }
        screen = created
        _ = set_term(created)
        cbreak()
        noecho()
        _ = shoal_keypad_on()
        nonl()
        _ = curs_set(0)
        set_escdelay(25)
        shoal_mouse_on()
        start_color()
        use_default_colors()
        use(theme)
        updateSize()
    }

    /// Whether colours may be shown at all (not with NO_COLOR, nor on a terminal without them).
    /// NO_COLOR counts when set and not empty (no-color.org).
    public static var allowsColour: Bool { (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty && has_colors() }

    /// Draws with `theme` from now on (mono where colour is not allowed); the next frame
    /// repaints the whole screen.
    public func use(_ theme: Theme) {
        applyTheme(Self.allowsColour ? theme : .monochrome)
        _ = shoal_repaint_all()
    }

    deinit { stop() }

    /// Gives the terminal back.
    public func stop() {
        guard let screen else { return }
        endwin()
        delscreen(screen)
        self.screen = nil
    }

    private func applyTheme(_ theme: Theme) {
        let colors = Int(shoal_colors())
        var next: Int16 = 1
        for slot in StyleSlot.allCases {
            let style = theme.style(slot)
            func fit(_ color: Int) -> Int16 { color < 0 ? -1 : Int16(color < colors ? color : color % 8) }
            init_pair(next, fit(style.foreground), fit(style.background))
            var attributes = shoal_color_pair(Int32(next))
            if style.bold { attributes |= shoal_a_bold() }
            if style.reverse { attributes |= shoal_a_reverse() }
            if style.dim { attributes |= shoal_a_dim() }
            pairs[slot] = (next, attributes)
            next += 1
        }
    }

    private func updateSize() {
        width = Int(shoal_cols())
        height = Int(shoal_lines())
    }

    /// Copies a frame to the screen; ncurses sends only what changed.
    public func draw(_ frame: CellBuffer) {
        let buffer = unicode ? frame : frame.asciiOnly()
        for y in 0..<min(buffer.height, height) {
            for x in 0..<min(buffer.width, width) {
                let cell = buffer[x, y]
                if cell.isContinuation { continue }
                let style = pairs[cell.style] ?? (0, 0)
                _ = shoal_put_cell(Int32(y), Int32(x), wchar_t(bitPattern: cell.scalar.value), style.attributes, style.pair)
            }
        }
        refresh()
    }

    /// Waits up to `timeout` milliseconds for a key.
    public func readKey(timeout milliseconds: Int32) -> Key? {
        timeout(milliseconds)
        var value: wint_t = 0
        let kind = shoal_get_key(&value)
        if kind == shoal_err() { return nil }
        if kind == KEY_CODE_YES {
            switch Int32(value) {
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_LEFT: return .left
            case KEY_RIGHT: return .right
            case KEY_PPAGE: return .pageUp
            case KEY_NPAGE: return .pageDown
            case KEY_HOME: return .home
            case KEY_END: return .end
            case KEY_ENTER: return .enter
            case KEY_BACKSPACE: return .backspace
            case KEY_DC: return .delete
            case KEY_BTAB: return .backTab
            case shoal_key_resize():
                updateSize()
                return .resize
            case shoal_key_mouse():
                var x: Int32 = 0, y: Int32 = 0
                switch shoal_get_mouse(&x, &y) {
                case 1: return .click(x: Int(x), y: Int(y))
                case 4: return .scrollUp
                case 5: return .scrollDown
                default: return nil
                }
            default: return nil
            }
        }
        switch value {
        case 10, 13: return .enter
        case 27: return .escape
        case 9: return .tab
        case 8, 127: return .backspace
        default:
            guard let scalar = Unicode.Scalar(UInt32(value)), value >= 32 else { return nil }
            return .character(Character(scalar))
        }
    }
}
