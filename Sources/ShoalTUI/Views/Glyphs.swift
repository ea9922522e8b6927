/// The characters views draw with: Unicode blocks when the terminal speaks UTF-8, ASCII otherwise.
public struct Glyphs: Sendable {
    public let eighths: [String]  // 0/8 ... 8/8 of a cell, left to right
    public let levels: [String]  // 0 ... 8 of a cell, bottom up
    public let full: String
    public let partial: String
    /// A missing piece: several peers have it, one does, nobody does. They differ without
    /// colour too (mono, NO_COLOR).
    public let missing: String
    public let missingOnePeer: String
    public let missingNobody: String
    public let down: String
    public let up: String
    public let separator: String
    /// No limit, and the prompt's cursor.
    public let unlimited: String
    public let cursor: String
    /// Before a marked torrent's name.
    public let marked: String
    /// Before a folder in the Files tab: its contents hidden, or shown below it.
    public let folded: String
    public let unfolded: String

    public static let unicode = Glyphs(
        eighths: [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"], levels: [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"],
        full: "█", partial: "▒", missing: "░", missingOnePeer: "┄", missingNobody: "×", down: "↓", up: "↑", separator: "│",
        unlimited: "∞", cursor: "█", marked: "●", folded: "▸", unfolded: "▾")

    public static let ascii = Glyphs(
        eighths: [" ", " ", " ", "-", "-", "-", "=", "=", "#"], levels: [" ", ".", ".", ":", ":", "=", "=", "#", "#"],
        full: "#", partial: "+", missing: ".", missingOnePeer: "-", missingNobody: "x", down: "v", up: "^", separator: "|",
        unlimited: "none", cursor: "_", marked: "*", folded: "+", unfolded: "-")

    /// A bar `width` cells wide filled to `fraction`, with eighth-cell resolution.
    public func bar(_ fraction: Double, width: Int) -> String {
        guard width > 0 else { return "" }
        let eighthsTotal = Int((min(1, max(0, fraction)) * Double(width * 8)).rounded(.down))
        var out = String(repeating: full, count: eighthsTotal / 8)
        if eighthsTotal / 8 < width {
            out += eighths[eighthsTotal % 8]
            out += String(repeating: " ", count: width - eighthsTotal / 8 - 1)
        }
        return out
    }

    /// One character per value, scaled to `maximum`.
    public func sparkline(_ values: [Double], maximum: Double) -> String {
        values.map { levels[maximum > 0 ? min(8, Int(($0 / maximum * 8).rounded(.up))) : 0] }.joined()
    }
}
