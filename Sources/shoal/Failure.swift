import ArgumentParser
import Foundation
import ShoalCore

/// Prints one clear line on stderr and exits 1: the contract for bad input in every command.
func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("shoal: \(TerminalText.printable(message))\n".utf8))
    return ExitCode(1)
}

func warn(_ message: String) {
    FileHandle.standardError.write(Data("shoal: warning: \(TerminalText.printable(message))\n".utf8))
}

/// One line on stdout, written at once (print's buffer would hold lines back from a pipe).
/// Every line goes through here, so names from torrents, peers and trackers cannot carry
/// terminal escapes to the screen.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((TerminalText.printable(line) + "\n").utf8))
}
