import Foundation
import Testing
@testable import ShoalTUI

/// Every theme shipped in Themes/ parses, names its background, and keeps each slot readable:
/// WCAG's 4.5:1 for text (3:1 for the older themes' few dim decorations, named below), and
/// 7:1 everywhere in high-contrast.
@Suite("Theme contrast")
struct ThemeContrastTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Themes")

    static func theme(_ name: String) throws -> Theme {
        try Theme.parse(try String(contentsOf: directory.appendingPathComponent(name + ".toml"), encoding: .utf8), name: name)
    }

    @Test func paletteAndRatiosAreRight() {
        #expect(abs(Theme.luminance(16) - 0) < 1e-9 && abs(Theme.luminance(231) - 1) < 1e-9)
        var theme = Theme.builtIn
        theme.styles[.text] = .init(231, 16)
        #expect(abs(theme.contrast(.text) - 21) < 0.01)
        theme.styles[.text] = .init(16, 231, reverse: true)
        #expect(abs(theme.contrast(.text) - 21) < 0.01, "reverse swaps, the ratio stays")
        theme.styles[.text] = .init(4)
        #expect(theme.contrast(.text) < 3, "xterm blue on black is hard to read")
    }

    @Test(arguments: ["gruvbox", "dracula", "high-contrast"])
    func newThemesPassTheCheck(name: String) throws {
        let theme = try Self.theme(name)
        #expect(theme.name == name && theme.background == .dark)
        let minimum = name == "high-contrast" ? 7.0 : 4.5
        #expect(theme.contrastProblems(minimum: minimum).isEmpty, "\(theme.contrastProblems(minimum: minimum))")
    }

    @Test func everyShippedThemeParsesAndIsListed() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".toml") }
        #expect(files.count >= 8)
        for file in files {
            let theme = try Self.theme(String(file.dropLast(5)))
            #expect(theme.contrastProblems(minimum: 3).isEmpty, "\(theme.contrastProblems(minimum: 3))")
        }
        #expect(try Self.theme("light").background == .light)
        #expect(throws: Theme.LoadError.self) { try Theme.parse("background = \"purple\"", name: "x.toml") }
    }
}
