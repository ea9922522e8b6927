/// Text from outside (a torrent's name, a magnet's `dn`, a peer's client name, a tracker's
/// failure reason, a file name) made safe to show on a terminal: a name holding
/// `ESC ]0;…BEL` would otherwise set the window title, `ESC [2J` clear the screen.
public enum TerminalText {
    /// Control characters (C0, DEL, C1), and the bidirectional overrides that make text read
    /// differently from its bytes, each become `?`, as `ls` shows them. Newlines too unless
    /// `keepNewlines` (for a multi-line report built by us).
    public static func printable(_ text: String, keepNewlines: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { isUnsafe($0, keepNewlines: keepNewlines) }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            out.append(isUnsafe(scalar, keepNewlines: keepNewlines) ? "?" : scalar)
        }
        return String(out)
    }

    public static func isUnsafe(_ scalar: Unicode.Scalar, keepNewlines: Bool) -> Bool {
        switch scalar.value {
        case 0x0A: return !keepNewlines
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x202A...0x202E, 0x2066...0x2069: return true  // bidi embeddings, overrides, isolates
        default: return false
        }
    }
}
