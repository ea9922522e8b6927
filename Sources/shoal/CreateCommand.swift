import ArgumentParser
import Foundation
import ShoalCore
import ShoalEngine

struct CreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Make a .torrent from a file or a directory.",
        discussion: """
            Directories are walked like mktorrent does: hidden files are included, symbolic links are
            followed, and files are ordered by their full path byte by byte, so the same content gives
            the same info-hash as mktorrent. Each -t starts a new tracker tier; several URLs in one -t,
            separated by commas, share a tier (BEP 12).
            """
    )

    @Argument(help: "The file or directory to share.")
    var path: String

    @Option(name: [.customShort("t"), .customLong("tracker")], help: "Announce URL (repeatable; commas share a tier).")
    var trackers: [String] = []

    @Option(name: [.customShort("w"), .customLong("web-seed")], help: "A web seed URL (BEP 19; repeatable): an HTTP server holding the content.")
    var webSeeds: [String] = []

    @Option(name: .shortAndLong, help: "Where to write the torrent (default: NAME.torrent).")
    var output: String?

    @Option(help: "Piece size in bytes (a power of two from 16 KiB to 16 MiB; K and M suffixes allowed). Default: about 1,000-2,000 pieces.")
    var pieceSize: String?

    @Flag(help: "Set the private flag (BEP 27): no DHT or peer exchange.")
    var `private` = false

    @Option(help: "A comment stored in the torrent.")
    var comment: String?

    @Option(help: "Hashing threads (default: every core).")
    var threads: Int?

    @Flag(help: "Make a BitTorrent v2-only torrent (BEP 52): SHA-256 hash trees per file. v1 peers cannot join it.")
    var v2 = false

    @Flag(help: "Make a hybrid v1 + v2 torrent (BEP 52), as libtorrent 2 and qBittorrent do: any peer can join.")
    var hybrid = false

    @Flag(help: "Leave out the creation date, so the whole file is reproducible.")
    var noDate = false

    @Flag(help: "Overwrite the output file if it exists.")
    var force = false

    func run() throws {
        guard !(v2 && hybrid) else { throw fail("--v2 and --hybrid cannot be used together") }
        var layout: ContentLayout
        do {
            layout = try ContentScanner.scan(path)
        } catch {
            throw fail(error.description)
        }
        let metaVersion: MetainfoBuilder.MetaVersion = v2 ? .v2 : hybrid ? .hybrid : .v1
        for warning in layout.warnings { warn(warning) }

        let pieceLength: Int
        if let pieceSize {
            guard let parsed = Self.parseSize(pieceSize), parsed >= 16 << 10, parsed <= 16 << 20,
                parsed & (parsed - 1) == 0
            else { throw fail("piece size '\(pieceSize)' must be a power of two from 16 KiB to 16 MiB") }
            pieceLength = parsed
        } else {
            pieceLength = MetainfoBuilder.automaticPieceLength(totalLength: layout.totalLength)
        }
        let tiers = trackers.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
            .map { $0.filter { !$0.isEmpty } }.filter { !$0.isEmpty }
        for url in tiers.joined() where !url.contains("://") {
            throw fail("tracker '\(url)' is not a URL (expected http://, https:// or udp://)")
        }
        for url in webSeeds where !(url.lowercased().hasPrefix("http://") || url.lowercased().hasPrefix("https://")) {
            throw fail("web seed '\(url)' is not an http:// or https:// URL")
        }
        let destination = output ?? layout.name + ".torrent"
        if !force && FileManager.default.fileExists(atPath: destination) {
            throw fail("\(destination) already exists (use --force to overwrite)")
        }

        let progress = isatty(STDERR_FILENO) == 1
            ? ProgressBar(total: TorrentHashing.bytesToHash(layout, pieceLength: pieceLength, version: metaVersion), label: "hashing") : nil
        var report: (@Sendable (Int64) -> Void)?
        if let progress { report = { progress.update($0) } }
        var builder: MetainfoBuilder
        do throws(PieceHashingError) {
            builder = try TorrentHashing.builder(layout, pieceLength: pieceLength, version: metaVersion,
                                                 threads: threads ?? ProcessInfo.processInfo.activeProcessorCount, progress: report)
        } catch {
            progress?.finish()
            throw fail(error.description)
        }
        progress?.finish()

        builder.trackerTiers = tiers
        builder.webSeeds = webSeeds
        builder.isPrivate = `private`
        builder.comment = comment
        builder.createdBy = ShoalVersion.createdBy
        builder.creationDate = noDate ? nil : Int64(Date().timeIntervalSince1970)
        let bytes = builder.encoded()
        guard FileManager.default.createFile(atPath: destination + ".part", contents: Data(bytes)),
            rename(destination + ".part", destination) == 0
        else {
            try? FileManager.default.removeItem(atPath: destination + ".part")
            throw fail("cannot write \(destination): \(String(cString: strerror(errno)))")
        }
        let metainfo = try? Metainfo(bytes: bytes)
        print("\(destination): \(layout.files.count) file(s), \(ByteCount.format(layout.totalLength)), "
              + "\(metainfo?.info.pieceCount ?? 0) pieces of \(ByteCount.format(Int64(pieceLength)))")
        print("info-hash: \(metainfo?.infoHash.hex ?? "?")")
    }

    static func parseSize(_ text: String) -> Int? {
        let lowered = text.lowercased().replacingOccurrences(of: "ib", with: "").replacingOccurrences(of: "b", with: "")
        if let last = lowered.last, let multiplier = ["k": 1 << 10, "m": 1 << 20][String(last)] {
            return Int(lowered.dropLast()).map { $0 * multiplier }
        }
        return Int(lowered)
    }
}
