import Foundation
import Testing
@testable import ShoalTUI

/// The README's table of keys is the keymap's: every binding, in the help's order and words.
@Suite("README keys table")
struct KeysTableTests {
    static var expectedTable: String {
        var lines = ["| Keys | What they do | Where |", "|---|---|---|"]
        for (context, heading) in HelpView.headings {
            for binding in Keymap.bindings where binding.context == context {
                let keys = binding.keys.map { "`\($0.label == "`" ? "backtick" : $0.label)`" }.joined(separator: " ")
                lines.append("| \(keys) | \(binding.description.replacingOccurrences(of: "|", with: "\\|")) | \(heading.lowercased()) |")
            }
        }
        return lines.joined(separator: "\n")
    }

    @Test func readmeListsEveryKey() throws {
        let readme = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../README.md").standardized, encoding: .utf8)
        #expect(readme.contains(Self.expectedTable), "the README's keys table should read:\n\(Self.expectedTable)")
    }
}
