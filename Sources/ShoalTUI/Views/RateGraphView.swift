/// The Rates tab: download (top) and upload (bottom), one column a second, newest on the right,
/// with the rate scale on the left and the time below.
struct RateGraphView {
    let glyphs: Glyphs
    /// The scale's labels, right-aligned, then the axis.
    static let margin = 14

    func draw(_ buffer: inout CellBuffer, series: RateHistory.Series?, rows: Range<Int>) {
        guard let series, !series.down.isEmpty else {
            buffer.put("collecting rates…", x: 2, y: rows.lowerBound, style: .dim)
            return
        }
        let half = max(3, rows.count / 2)
        drawGraph(&buffer, values: series.down, top: rows.lowerBound, height: half, label: "\(glyphs.down) download", style: .graphDown)
        guard rows.upperBound - (rows.lowerBound + half) >= 3 else { return }
        drawGraph(&buffer, values: series.up, top: rows.lowerBound + half, height: rows.upperBound - rows.lowerBound - half,
                  label: "\(glyphs.up) upload", style: .graphUp)
    }

    /// A title line, the plot, and a time axis: `height` rows from `top`.
    private func drawGraph(_ buffer: inout CellBuffer, values all: ArraySlice<Double>, top: Int, height: Int, label: String, style: StyleSlot) {
        let plotWidth = max(1, buffer.width - Self.margin - 1)
        let values = Array(all.suffix(plotWidth))
        let peak = values.max() ?? 0
        guard peak >= 1 else {
            buffer.put("\(label)  nothing in the last \(Self.duration(all.count))", x: 1, y: top, style: .header)
            return
        }
        buffer.put("\(label)  peak \(Format.rate(peak))  now \(Format.rate(values.last ?? 0))  average \(Format.rate(values.reduce(0, +) / Double(values.count)))",
                   x: 1, y: top, style: .header)
        let plotRows = max(1, height - 2)
        let plotTop = top + 1
        for row in 0..<plotRows {
            let scale = row == 0 ? Format.rate(peak) : row == plotRows - 1 ? "0" : ""
            buffer.put(scale.fitted(Self.margin - 2, alignRight: true) + " " + glyphs.separator, x: 0, y: plotTop + row, style: .dim)
        }
        // Newest on the right edge: column `plotWidth - 1 - n` is n seconds ago.
        let first = Self.margin + plotWidth - values.count
        for (column, value) in values.enumerated() {
            let eighths = Int((value / peak * Double(plotRows * 8)).rounded())
            for row in 0..<plotRows {
                let fill = min(8, max(0, eighths - row * 8))
                guard fill > 0 else { continue }
                buffer.put(glyphs.levels[fill], x: first + column, y: plotTop + plotRows - 1 - row, style: style)
            }
        }
        drawTimeAxis(&buffer, y: plotTop + plotRows, plotWidth: plotWidth)
    }

    /// "-4m … -1m  now" under the plot, a label every minute (every 15 s on a narrow window).
    private func drawTimeAxis(_ buffer: inout CellBuffer, y: Int, plotWidth: Int) {
        let right = Self.margin + plotWidth - 1
        buffer.put("now", x: right - 2, y: y, style: .dim)
        let step = plotWidth >= 120 ? 60 : plotWidth >= 60 ? 30 : 15
        var seconds = step
        while seconds < plotWidth - 4 {
            let text = "-" + Self.duration(seconds)
            let x = right - seconds - text.count / 2
            if x >= Self.margin { buffer.put(text, x: x, y: y, style: .dim) }
            seconds += step
        }
    }

    static func duration(_ seconds: Int) -> String {
        seconds % 60 == 0 ? "\(seconds / 60)m" : seconds > 60 ? "\(seconds / 60)m\(seconds % 60)s" : "\(seconds)s"
    }
}
