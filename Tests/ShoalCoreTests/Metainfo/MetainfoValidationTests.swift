import Testing
@testable import ShoalCore

@Suite("Metainfo validation")
struct MetainfoValidationTests {
    static let hash20 = [UInt8](repeating: 0xAB, count: 20)

    static func torrent(info: [String: BencodeValue], extra: [String: BencodeValue] = [:]) -> [UInt8] {
        var root = extra
        root["info"] = .dict(info)
        return BencodeEncoder.encode(.dict(root))
    }

    static let goodSingle: [String: BencodeValue] = [
        "name": .string("a.bin"), "piece length": .integer(16384), "length": .integer(20000),
        "pieces": .bytes(hash20 + hash20),
    ]

    @Test func acceptsAMinimalSingleFileTorrent() throws {
        let metainfo = try Metainfo(bytes: Self.torrent(info: Self.goodSingle, extra: ["announce": .string("http://127.0.0.1/a")]))
        #expect(metainfo.info.isSingleFile)
        #expect(metainfo.info.files == [TorrentFile(path: ["a.bin"], length: 20000, offset: 0)])
        #expect(metainfo.trackerTiers == [["http://127.0.0.1/a"]])
        #expect(metainfo.info.geometry.length(of: metainfo.info.geometry.piece(1)!) == 20000 - 16384)
    }

    static func with(_ key: String, _ value: BencodeValue?) -> [String: BencodeValue] {
        var info = goodSingle
        info[key] = value
        return info
    }

    static let rejected: [(String, [String: BencodeValue], String)] = [
        ("piece length not a multiple of 16 KiB", with("piece length", .integer(20000)), "not a multiple of 16 KiB"),
        ("piece length below 16 KiB", with("piece length", .integer(8192)), "not a multiple of 16 KiB"),
        ("piece length over 128 MiB", with("piece length", .integer(256 << 20)), "larger than Shoal's limit"),
        ("piece length missing", with("piece length", nil), "piece length"),
        ("pieces of the wrong size", with("pieces", .bytes(hash20)), "'pieces' holds 20 bytes"),
        ("pieces not a multiple of 20", with("pieces", .bytes(hash20 + [1])), "'pieces' holds 21 bytes"),
        ("no name", with("name", nil), "missing 'name'"),
        ("negative length", with("length", .integer(-1)), "negative length"),
        ("zero length", with("length", .integer(0)), "no data"),
        ("no length or files", with("length", nil), "neither 'length' nor 'files'"),
    ]

    @Test("rejects", arguments: rejected)
    func rejects(label: String, info: [String: BencodeValue], message: String) {
        do {
            _ = try Metainfo(bytes: Self.torrent(info: info))
            Issue.record("\(label) was accepted")
        } catch {
            #expect(error.description.contains(message), "\(label): \(error.description)")
            #expect(error.offset != nil)
        }
    }

    static func multi(_ paths: [[String]], lengths: [Int64]? = nil) -> [String: BencodeValue] {
        let lengths = lengths ?? paths.map { _ in 10 }
        return [
            "name": .string("dir"), "piece length": .integer(16384), "pieces": .bytes(hash20),
            "files": .list(zip(paths, lengths).map { .dict(["path": .list($0.map { .string($0) }), "length": .integer($1)]) }),
        ]
    }

    /// Unsafe names are sanitized, not refused (see WildTorrentTests for the cases).
    @Test("unsafe file paths stay inside the torrent's directory", arguments: [[".."], ["a", "..", "b"], ["."], [""], ["/etc"], ["a/b"], []])
    func unsafePathsAreSanitized(path: [String]) throws {
        let metainfo = try Metainfo(bytes: Self.torrent(info: Self.multi([path])))
        let disk = try #require(metainfo.info.files.first?.diskPath)
        #expect(!disk.isEmpty)
        #expect(disk.allSatisfy { !$0.isEmpty && $0 != Array(".".utf8) && $0 != Array("..".utf8) && !$0.contains(UInt8(ascii: "/")) })
    }

    @Test func understandsPaddingFiles() throws {
        var info = Self.multi([["a"], [".pad", "16374"], ["b"]], lengths: [10, 16374, 10])
        if case .list(var files) = info["files"]!, case .dictionary(var pad) = files[1] {
            pad[Array("attr".utf8)] = .string("p")
            files[1] = .dictionary(pad)
            info["files"] = .list(files)
        }
        info["pieces"] = .bytes(Self.hash20 + Self.hash20)
        let metainfo = try Metainfo(bytes: Self.torrent(info: info))
        #expect(metainfo.info.files.map(\.isPadding) == [false, true, false])
        #expect(metainfo.info.files[2].offset == 16384)
    }

    @Test func announceListWinsAndSkipsJunk() throws {
        let extra: [String: BencodeValue] = [
            "announce": .string("http://127.0.0.1/ignored"),
            "announce-list": .list([
                .list([.string("http://127.0.0.1/a"), .integer(5), .string("udp://127.0.0.1:1/b")]),
                .list([]),
                .string("not a list"),
                .list([.string("http://127.0.0.1/c")]),
            ]),
        ]
        let metainfo = try Metainfo(bytes: Self.torrent(info: Self.goodSingle, extra: extra))
        #expect(metainfo.trackerTiers == [["http://127.0.0.1/a", "udp://127.0.0.1:1/b"], ["http://127.0.0.1/c"]])
    }

    @Test func rootMustBeADictionary() {
        #expect(throws: MetainfoError("a torrent must be a dictionary, found a list", at: 0)) {
            try Metainfo(bytes: Array("le".utf8))
        }
        #expect(throws: MetainfoError("missing 'info' dictionary", at: 0)) { try Metainfo(bytes: Array("de".utf8)) }
    }
}
