import ShoalCore

/// The screen as a grid of styled cells: what every view draws into, and what the terminal
/// layer copies to ncurses. Being plain data, a whole screen can be tested as text.
public struct CellBuffer: Sendable, Equatable {
    public struct Cell: Sendable, Equatable {
        public var scalar: Unicode.Scalar
        public var style: StyleSlot
        /// The right half of a double-width character: drawn by its left half.
        public var isContinuation: Bool

        public static let blank = Cell(scalar: " ", style: .text, isContinuation: false)
    }

    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        self.cells = [Cell](repeating: .blank, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        cells[y * width + x]
    }

    /// Writes `text` from (x, y), clipped at `maxWidth` columns (and the buffer's edge).
    /// Returns the column after the last character written.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: StyleSlot, maxWidth: Int? = nil) -> Int {
        guard y >= 0 && y < height else { return x }
        let limit = min(width, x + (maxWidth ?? width))
        var column = x
        for raw in text.unicodeScalars {
            // Every string reaches the screen here: control characters from a torrent, a peer
            // or a tracker are shown as `?`, never sent to the terminal.
            let scalar: Unicode.Scalar = TerminalText.isUnsafe(raw, keepNewlines: false) ? "?" : raw
            let columns = DisplayWidth.of(scalar)
            if columns == 0 { continue }
            if column + columns > limit { break }
            if column >= 0 {
                cells[y * width + column] = Cell(scalar: scalar, style: style, isContinuation: false)
                if columns == 2 { cells[y * width + column + 1] = Cell(scalar: " ", style: style, isContinuation: true) }
            }
            column += columns
        }
        return column
    }

    /// Fills a row segment with spaces in a style (backgrounds of bars and selections).
    public mutating func fill(y: Int, from x: Int = 0, to end: Int? = nil, style: StyleSlot) {
        guard y >= 0 && y < height else { return }
        for column in max(0, x)..<min(width, end ?? width) {
            cells[y * width + column] = Cell(scalar: " ", style: style, isContinuation: false)
        }
    }

    /// Restyles a row segment, keeping its characters (for highlighting a selected row).
    public mutating func restyle(y: Int, from x: Int = 0, to end: Int? = nil, style: StyleSlot) {
        guard y >= 0 && y < height else { return }
        for column in max(0, x)..<min(width, end ?? width) { cells[y * width + column].style = style }
    }

    mutating func mapCells(_ transform: (Cell) -> Cell) {
        for index in cells.indices { cells[index] = transform(cells[index]) }
    }

    /// The text of one row, for tests and the headless dump.
    public func line(_ y: Int) -> String {
        var out = ""
        for x in 0..<width where !self[x, y].isContinuation { out.unicodeScalars.append(self[x, y].scalar) }
        return out
    }

    public var text: String { (0..<height).map { line($0) }.joined(separator: "\n") }
}

extension String {
    /// Pads or cuts to exactly `columns` display columns (cut text ends in "…").
    func fitted(_ columns: Int, alignRight: Bool = false) -> String {
        guard columns > 0 else { return "" }
        let width = DisplayWidth.of(self)
        if width <= columns {
            let pad = String(repeating: " ", count: columns - width)
            return alignRight ? pad + self : self + pad
        }
        var out = ""
        var used = 0
        for scalar in unicodeScalars {
            let w = DisplayWidth.of(scalar)
            if used + w > columns - 1 { break }
            out.unicodeScalars.append(scalar)
            used += w
        }
        return out + "…" + String(repeating: " ", count: max(0, columns - 1 - used))
    }
}
