import ShoalCore
import Testing

/// Where a torrent's bytes are on a web seed (BEP 19): URLs and the GETs for a range.
@Suite("Web seed layout")
struct WebSeedLayoutTests {
    /// A torrent from raw bencode, so paths can hold bytes the sanitizer would change.
    static func metainfo(name: String, files: [(path: [[UInt8]], length: Int64, padding: Bool)]?, length: Int64 = 0,
                         pieceLength: Int = 16 << 10) throws -> Metainfo {
        let total = files?.reduce(0) { $0 + $1.length } ?? length
        let pieces = Int((total + Int64(pieceLength) - 1) / Int64(pieceLength))
        var info: [String: BencodeValue] = ["name": .string(name), "piece length": .integer(Int64(pieceLength)),
                                            "pieces": .bytes(Array(repeating: 0, count: pieces * 20))]
        if let files {
            info["files"] = .list(files.map { file in
                var entry: [String: BencodeValue] = ["length": .integer(file.length), "path": .list(file.path.map { .bytes($0) })]
                if file.padding { entry["attr"] = .string("p") }
                return .dict(entry)
            })
        } else {
            info["length"] = .integer(length)
        }
        return try Metainfo(bytes: BencodeEncoder.encode(.dict(["info": .dict(info)])))
    }

    static func layout(_ url: String, _ metainfo: Metainfo) -> WebSeedLayout {
        WebSeedLayout(baseURL: url, info: metainfo.info, rawInfo: metainfo.rawInfo)
    }

    @Test func aSingleFileIsItsURLOrItsNameBelowADirectory() throws {
        let torrent = try Self.metainfo(name: "big file.iso", files: nil, length: 100_000)
        #expect(Self.layout("http://h/dl/big.iso", torrent).files.map(\.url) == ["http://h/dl/big.iso"])
        #expect(Self.layout("http://h/dl/", torrent).files.map(\.url) == ["http://h/dl/big%20file.iso"])
    }

    @Test func aMultiFileTorrentsFilesAreBelowItsNameWithTheirOwnBytesEncoded() throws {
        // A component with a slash and one of "..": sanitized on disk, sent as the torrent says.
        let torrent = try Self.metainfo(name: "Album (2024)", files: [
            ([Array("Disc 1".utf8), Array("01 Ouvertüre.flac".utf8)], 40_000, false),
            ([Array("a/b".utf8)], 10, false),
            ([Array("..".utf8), Array("x".utf8)], 5, false),
        ])
        let urls = Self.layout("https://h:8443/pub", torrent).files.map(\.url)
        #expect(urls == ["https://h:8443/pub/Album%20%282024%29/Disc%201/01%20Ouvert%C3%BCre.flac",
                         "https://h:8443/pub/Album%20%282024%29/a%2Fb",
                         "https://h:8443/pub/Album%20%282024%29/../x"])
        #expect(Self.layout("https://h:8443/pub/", torrent).files.map(\.url) == urls, "one slash either way")
    }

    @Test func aRangeAcrossFilesIsOneGetPerFilePaddingIsZerosAndEmptyFilesNothing() throws {
        let torrent = try Self.metainfo(name: "t", files: [
            ([Array("a".utf8)], 20_000, false), ([Array("empty".utf8)], 0, false), ([Array("pad".utf8)], 12_768, true),
            ([Array("b".utf8)], 50_000, false),
        ])
        let parts = Self.layout("http://h/", torrent).parts(15_000..<40_000)
        #expect(parts == [
            .init(url: "http://h/t/a", fileOffset: 15_000, length: 5_000, torrentOffset: 15_000, fileLength: 20_000),
            .init(url: nil, fileOffset: 0, length: 12_768, torrentOffset: 20_000, fileLength: 12_768),
            .init(url: "http://h/t/b", fileOffset: 0, length: 7_232, torrentOffset: 32_768, fileLength: 50_000),
        ])
    }

    /// Any range of any layout: the parts tile it exactly, each inside its file.
    @Test func partsTileEveryRange() throws {
        var rng = SplitMix64(seed: 19)
        for _ in 0..<200 {
            let count = Int.random(in: 1...12, using: &rng)
            let files = (0..<count).map { n in
                ([Array("f\(n)".utf8)], Int64.random(in: 0...70_000, using: &rng), false)
            }
            guard files.contains(where: { $0.1 > 0 }) else { continue }
            let torrent = try Self.metainfo(name: "t", files: files)
            let layout = Self.layout("http://h/", torrent)
            let total = torrent.info.totalLength
            for _ in 0..<20 {
                let start = Int64.random(in: 0..<total, using: &rng)
                let end = Int64.random(in: start + 1...total, using: &rng)
                var at = start
                for part in layout.parts(start..<end) {
                    #expect(part.torrentOffset == at && part.length > 0)
                    #expect(part.fileOffset >= 0 && part.fileOffset + Int64(part.length) <= part.fileLength)
                    at += Int64(part.length)
                }
                #expect(at == end)
            }
        }
    }
}
