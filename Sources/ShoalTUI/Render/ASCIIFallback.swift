/// For a terminal without UTF-8 (`LC_ALL=C`): the views draw with `Glyphs.ascii`, and this
/// replaces whatever other character still reaches the screen (an arrow in the help, a cut
/// name's "…", a torrent's own non-ASCII name) by one ASCII character in the same cell.
enum ASCIIFallback {
    static let replacements: [Unicode.Scalar: Unicode.Scalar] = [
        "↑": "^", "↓": "v", "←": "<", "→": ">", "…": "~", "×": "x", "—": "-", "–": "-", "│": "|", "·": ".",
        "∞": "-", "█": "#", "░": ".", "▒": "+", "┄": "-", "●": "*", "▸": "+", "▾": "-",
    ]

    static func scalar(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        scalar.isASCII ? scalar : replacements[scalar] ?? "?"
    }
}

extension CellBuffer {
    /// This screen in ASCII only; the right half of a wide character becomes a space.
    public func asciiOnly() -> CellBuffer {
        var copy = self
        copy.mapCells { cell in
            guard !cell.scalar.isASCII || cell.isContinuation else { return cell }
            return Cell(scalar: cell.isContinuation ? " " : ASCIIFallback.scalar(cell.scalar), style: cell.style, isContinuation: false)
        }
        return copy
    }
}
