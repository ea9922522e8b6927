import ArgumentParser
import Foundation
import ShoalCore
import ShoalEngine
import ShoalTerminal
import ShoalTUI
import Synchronization

/// `shoal demo`: a swarm on loopback, watched from one leecher, so a new user sees Shoal work
/// with no internet and no torrent at hand.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a whole swarm on 127.0.0.1 (tracker, seeder, leechers) and watch it.",
        discussion: """
            Everything is local: an embedded tracker, one seeder and N-1 leechers in this process, with
            different upload caps so pieces travel between leechers. The interface shows the last
            leecher; the caps are set so the download takes about --minutes (3), and once every
            leecher is done it starts again after 20 s, until q. With --headless it runs at full
            demo speed (1 MiB/s from the seeder), prints progress and exits 0 once every leecher has
            every piece verified. Temporary files are removed on exit.
            """
    )

    @Flag(help: "Print progress lines instead of the full-screen interface; exit when every leecher is done.")
    var headless = false

    @Option(help: "Peers in the swarm, the seeder included (2-16).")
    var peers: Int = 6

    @Option(help: "Size of the sample content in MiB (1-1024).")
    var size: Int = 32

    @Option(help: "About how long the download takes (the interface's default: 3; headless: as fast as the demo goes).")
    var minutes: Double?

    @Option(help: "Colour theme (see shoal run --help).")
    var theme: String = "default"

    @Option(help: "Give up after this many seconds in headless mode.")
    var timeout: Int = 600

    func validate() throws {
        guard (2...16).contains(peers) else { throw ValidationError("--peers must be 2-16") }
        guard (1...1024).contains(size) else { throw ValidationError("--size must be 1-1024 (MiB)") }
        if let minutes, !(0.1...120).contains(minutes) { throw ValidationError("--minutes must be 0.1-120") }
    }

    func run() async throws {
        MallocSettings.apply()
        var chosenTheme = Theme.builtIn
        if !headless {
            do {
                chosenTheme = try Theme.load(theme)
            } catch {
                throw fail(error.description)
            }
        }
        FileHandle.standardError.write(Data("shoal demo: making \(size) MiB of sample content and a swarm of \(peers) peers on 127.0.0.1…\n".utf8))
        let swarm: DemoSwarm
        do {
            swarm = try await DemoSwarm.start(peers: peers, sizeMiB: size, minutes: headless ? minutes : minutes ?? 3)
        } catch {
            throw fail("demo: \(error)")
        }
        let isHeadless = headless
        let selectedTheme = chosenTheme
        let limit = Duration.seconds(timeout)
        let outcome = await withTaskGroup(of: String?.self) { group in
            group.addTask {
                await swarm.run()
                return nil
            }
            group.addTask {
                let result = isHeadless ? await Self.watchHeadless(swarm, timeout: limit)
                    : await withTaskGroup(of: String?.self) { watching in
                        watching.addTask { await swarm.replayWhenDone(); return nil }
                        watching.addTask { await Self.watchInterface(swarm, theme: selectedTheme) }
                        let ended = await watching.first { $0 != nil } ?? nil
                        watching.cancelAll()
                        return ended ?? "ok"
                    }
                await swarm.stop()
                await swarm.stopTracker()
                return result
            }
            var outcome: String?
            for await result in group where result != nil { outcome = result }
            return outcome
        }
        swarm.removeFiles()
        if let outcome, outcome != "ok" { throw fail(outcome) }
    }

    private static func watchInterface(_ swarm: DemoSwarm, theme: Theme) async -> String {
        do throws(Terminal.Unavailable) {
            try await TUIApp.run(session: swarm.watched.session, theme: theme, downloadDirectory: swarm.directory.path)
            return "ok"
        } catch {
            return error.description
        }
    }

    private static func watchHeadless(_ swarm: DemoSwarm, timeout: Duration) async -> String {
        let deadline = ContinuousClock.now + timeout
        let interrupted = InterruptFlag()
        let signals = Task {
            for await _ in SignalStream.termination() {
                interrupted.set()
                return
            }
        }
        defer { signals.cancel() }
        while ContinuousClock.now < deadline {
            var line: [String] = []
            for member in swarm.leechers {
                guard let torrent = await member.session.snapshot().torrents.first else { continue }
                line.append("\(member.name) \(ByteCount.fixed(torrent.progress * 100, digits: 1))% "
                            + "down \(ByteCount.format(Int64(torrent.downloadRate)))/s peers \(torrent.peers.count)")
            }
            say(line.joined(separator: "  |  "))
            if await swarm.allLeechersComplete() {
                let problems = swarm.verifyCopies()
                guard problems.isEmpty else { return "demo: copies differ: " + problems.joined(separator: "; ") }
                say("demo complete: \(swarm.leechers.count) leechers verified every piece and match the original byte for byte")
                return "ok"
            }
            if interrupted.isSet { return "demo: interrupted" }
            try? await Task.sleep(for: .seconds(1))
        }
        return "demo: not every leecher finished within \(timeout.components.seconds) s"
    }
}

/// A one-way switch shared between tasks.
final class InterruptFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
