import ArgumentParser
import Foundation
import ShoalEngine
import ShoalTerminal
import ShoalTUI

/// `shoal attach [URL]`: the full-screen interface on a running daemon (`shoal --headless
/// --rpc`), through its RPC. `q` detaches and leaves the daemon running.
struct AttachCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Show and drive a running Shoal daemon (shoal --headless --rpc) in the full-screen interface.",
        discussion: """
            URL is the daemon's RPC: http://HOST:PORT/transmission/rpc, HOST:PORT, or a port on 127.0.0.1 (default 9091).
            Over SSH, forward the port (ssh -L 9091:127.0.0.1:9091 server) and attach to 9091. q detaches; the daemon keeps running.
            A password is read from $SHOAL_RPC_PASSWORD, never from the command line.
            """
    )

    @Argument(help: "The daemon's RPC address (default 127.0.0.1:9091).")
    var url = "127.0.0.1:9091"

    @Option(help: "User name, when the daemon asks for one (the password comes from $SHOAL_RPC_PASSWORD).")
    var username: String?

    @Option(help: ArgumentHelp(RunSettings.theme.help))
    var theme: String?

    @Option(help: "Configuration file, for the theme (default: $XDG_CONFIG_HOME/shoal/config.toml).")
    var config: String?

    func run() async throws {
        let file = try ConfigFile.loadForCommand(config)
        let chosen = try file.theme(theme)
        let password = ProcessInfo.processInfo.environment["SHOAL_RPC_PASSWORD"]
        let client = RPCClient(url: url, user: username, password: password)
        // Said plainly before the screen opens: a daemon that is not there, or refuses us.
        do {
            _ = try await client.call("session-get", ["fields": ["version"]])
        } catch let failure where failure.kind == .unauthorized {
            throw fail("\(failure.description)\(username == nil ? " (use --username and $SHOAL_RPC_PASSWORD)" : "")")
        } catch {
            warn("\(error); the interface will keep trying")
        }
        let address = client.url.replacingOccurrences(of: "http://", with: "").replacingOccurrences(of: RPCServer.path, with: "")
        do throws(Terminal.Unavailable) {
            // Kept apart from a local session's: the same user may sort a daemon's list differently.
            let directory = RunCommand.defaultStateDirectory()
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try await TUIApp.run(backend: RemoteBackend(client: client, title: address), theme: chosen,
                                 preferences: directory + "/attach-interface.json")
        } catch {
            throw fail(error.description)
        }
    }
}
