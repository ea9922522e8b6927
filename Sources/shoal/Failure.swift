import ArgumentParser
import Foundation

/// Prints one clear line on stderr and exits 1: the contract for bad input in every command.
func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("shoal: \(message)\n".utf8))
    return ExitCode(1)
}

func warn(_ message: String) {
    FileHandle.standardError.write(Data("shoal: warning: \(message)\n".utf8))
}

/// One line on stdout, written at once (print's buffer would hold lines back from a pipe).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
