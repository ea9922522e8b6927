import Testing
@testable import ShoalCore

@Suite("Text from outside, made safe for a terminal")
struct TerminalTextTests {
    @Test(arguments: [
        ("\u{1B}]0;PWNED\u{07}", "?]0;PWNED?"),
        ("a\u{1B}[2Jb", "a?[2Jb"),
        ("tab\there", "tab?here"),
        ("line\nbreak", "line?break"),
        ("del\u{7F}c1\u{9B}", "del?c1?"),
        ("evil\u{202E}txt.exe", "evil?txt.exe"),
        ("isolate\u{2066}x\u{2069}", "isolate?x?"),
        ("Grüße 日本 ✓", "Grüße 日本 ✓"),
    ])
    func controlCharactersBecomeQuestionMarks(input: String, shown: String) {
        #expect(TerminalText.printable(input) == shown)
    }

    @Test func newlinesMayBeKeptForOurOwnReports() {
        #expect(TerminalText.printable("Name: a\u{1B}b\nHash: x\n", keepNewlines: true) == "Name: a?b\nHash: x\n")
    }
}
