import ArgumentParser
import Foundation
import ShoalCore
import ShoalEngine

/// `shoal config --print`: the configuration in force, each setting with where it comes from.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show the effective configuration and where each setting comes from.",
        discussion: "Settings come from the config file ($XDG_CONFIG_HOME/shoal/config.toml, or --config) or are defaults; "
            + "command-line flags of `shoal` override both for one run."
    )

    @Flag(help: "Print every setting as TOML, with its source as a comment.")
    var print = false

    @Flag(help: "Read a password from stdin and print the rpc_password line that stores its salted hash.")
    var hashPassword = false

    @Option(help: "Configuration file (default: $XDG_CONFIG_HOME/shoal/config.toml).")
    var config: String?

    func run() throws {
        if hashPassword {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw ValidationError("no password on stdin") }
            say("rpc_password = \"\(RPCAccess.Credentials.hash(line))\"")
            return
        }
        guard print else { throw ValidationError("nothing to do: use --print or --hash-password") }
        let path = config ?? ConfigFile.defaultPath
        let file = try ConfigFile.loadForCommand(config)
        let exists = FileManager.default.fileExists(atPath: path)
        say("# shoal \(ShoalVersion.string): effective configuration")
        say("# file: \(path)\(exists ? "" : " (absent)")")
        let rows = file.effective(source: path)
        let width = rows.map { $0.key.count + $0.value.count + 3 }.max() ?? 0
        for row in rows {
            // An unset goal has no value to show: it stays a comment, so the output is valid TOML.
            let line = row.value.isEmpty ? "# \(row.key) is not set" : "\(row.key) = \(row.value)"
            say(line.padding(toLength: max(width, line.count), withPad: " ", startingAt: 0) + "  # \(row.source)")
        }
    }
}
