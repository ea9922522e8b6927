import Foundation

/// How readable a theme is: each slot's WCAG contrast ratio between what it draws and what it
/// draws on, with xterm's 256-colour palette, the terminal's own colours taken as black and
/// light grey (white and black on a light theme). Dim slots are judged on their colours alone.
extension Theme {
    public enum Background: String, Sendable, Equatable { case dark, light }

    /// The ratio (1 to 21) for `slot`.
    public func contrast(_ slot: StyleSlot) -> Double {
        let style = style(slot)
        let defaults = background == .dark ? (fg: 252, bg: 16) : (fg: 16, bg: 231)
        var fg = style.foreground < 0 ? defaults.fg : style.foreground
        var bg = style.background < 0 ? defaults.bg : style.background
        if style.reverse { swap(&fg, &bg) }
        let (a, b) = (Self.luminance(fg), Self.luminance(bg))
        return (max(a, b) + 0.05) / (min(a, b) + 0.05)
    }

    /// Slots under `minimum`, with their ratios, for a test or `shoal config` to name.
    public func contrastProblems(minimum: Double) -> [String] {
        StyleSlot.allCases.compactMap { slot in
            let ratio = contrast(slot)
            return ratio < minimum ? "\(name): \(slot.rawValue) \(String(format: "%.2f", ratio)):1" : nil
        }
    }

    static func rgb(_ index: Int) -> (Double, Double, Double) {
        let system: [(Double, Double, Double)] = [
            (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
            (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
        ]
        switch index {
        case 0..<16: return system[index]
        case 16..<232:
            let levels: [Double] = [0, 95, 135, 175, 215, 255]
            let cube = index - 16
            return (levels[cube / 36], levels[(cube / 6) % 6], levels[cube % 6])
        default:
            let gray = Double(8 + 10 * (min(255, index) - 232))
            return (gray, gray, gray)
        }
    }

    static func luminance(_ index: Int) -> Double {
        func channel(_ value: Double) -> Double {
            let c = value / 255
            return c <= 0.03928 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
        }
        let (r, g, b) = rgb(index)
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    }
}
