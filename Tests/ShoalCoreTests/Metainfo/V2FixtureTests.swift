import Foundation
import ShoalCore
import Testing

/// BitTorrent v2 and hybrid torrents made by libtorrent 2.0, and broken copies of them
/// (Scripts/make-v2-fixtures.py): each accepted or refused as libtorrent itself judged it, with
/// the info-hashes, pieces and files libtorrent reported.
@Suite("v2 and hybrid torrents against libtorrent's verdicts")
struct V2FixtureTests {
    struct Verdict: Decodable, Sendable, CustomStringConvertible {
        let file: String
        let accepted: Bool
        let error: String?
        let v1: String?
        let v2: String?
        let pieceCount: Int?
        let files: [String]?
        let sizes: [Int64]?
        var description: String { file }
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/v2")
    static let verdicts: [Verdict] = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        return try! JSONDecoder().decode([Verdict].self, from: data)
    }()

    static func load(_ verdict: Verdict) throws -> Metainfo {
        try Metainfo(bytes: Array(Data(contentsOf: directory.appendingPathComponent(verdict.file))))
    }

    @Test("Shoal's verdict is libtorrent's", arguments: verdicts)
    func sameVerdict(_ verdict: Verdict) throws {
        guard verdict.accepted else {
            #expect(throws: MetainfoError.self, "libtorrent refused it: \(verdict.error ?? "")") { try Self.load(verdict) }
            return
        }
        let metainfo = try Self.load(verdict)
        #expect(metainfo.infoHashV2.map { $0.map { String(format: "%02x", $0) }.joined() } == verdict.v2)
        if let v1 = verdict.v1 {
            #expect(metainfo.infoHash.hex == v1, "a hybrid is known by its v1 hash")
        } else {
            #expect(metainfo.info.v2?.isOnly == true && metainfo.infoHash.hex == String(verdict.v2!.prefix(40)),
                    "a v2-only torrent by its v2 hash cut to 20 bytes")
        }
        #expect(metainfo.info.pieceCount == verdict.pieceCount)
        let files = metainfo.info.files.filter { !$0.isPadding }
        let paths = files.map { metainfo.info.isSingleFile ? metainfo.info.name : metainfo.info.name + "/" + $0.displayPath }
        #expect(paths == verdict.files)
        #expect(files.map(\.length) == verdict.sizes)
    }

    /// A v2-only torrent whose layers are all there can check every piece; one missing a layer
    /// (or with one that does not hash to its root) names the file.
    @Test func piecesCanBeCheckedOnlyWithTheirLayers() throws {
        let complete = try Self.load(Self.verdicts.first { $0.file == "v2-multi.torrent" }!)
        #expect(complete.info.v2Pieces != nil && complete.missingPieceLayer == nil)
        for file in ["v2-no-piece-layers.torrent", "v2-bad-piece-layer-hash.torrent"] {
            let torrent = try Self.load(Self.verdicts.first { $0.file == file }!)
            #expect(torrent.info.v2Pieces == nil && ["big.bin", "exact.bin"].contains(torrent.missingPieceLayer ?? ""), "\(file): \(String(describing: torrent.missingPieceLayer))")
        }
        let hybrid = try Self.load(Self.verdicts.first { $0.file == "hybrid-multi.torrent" }!)
        #expect(hybrid.info.v2?.isOnly == false && hybrid.info.v2Pieces != nil,
                "hybrids are checked by their v1 hashes, and keep their layers to answer hash requests")
    }

    /// Written out again (the session keeps torrents this way), a v2 torrent keeps its layers
    /// and its hashes.
    @Test func fileBytesKeepThePieceLayers() throws {
        for name in ["v2-multi.torrent", "hybrid-multi.torrent", "v2-single.torrent"] {
            let metainfo = try Self.load(Self.verdicts.first { $0.file == name }!)
            let again = try Metainfo(bytes: metainfo.fileBytes)
            #expect(again.infoHash == metainfo.infoHash && again.infoHashV2 == metainfo.infoHashV2)
            #expect(again.rawPieceLayers == metainfo.rawPieceLayers && (again.info.v2Pieces != nil) == (metainfo.info.v2Pieces != nil))
        }
    }
}
