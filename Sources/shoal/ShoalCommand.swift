import ArgumentParser
import ShoalCore

@main
struct ShoalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shoal",
        abstract: "A BitTorrent download manager for the terminal.",
        version: ShoalVersion.string,
        subcommands: [RunCommand.self, AttachCommand.self, DemoCommand.self, CreateCommand.self, InfoCommand.self, TrackerCommand.self, ConfigCommand.self],
        defaultSubcommand: RunCommand.self
    )
}
