import Testing
@testable import ShoalCore

/// Torrents met in the wild that libtorrent loads (its own test suite ships such files; these
/// fixtures are made here with the same traits): Shoal loads them too, with every name made
/// safe, and nothing can point outside the download directory.
@Suite("Torrents from the wild")
struct WildTorrentTests {
    static let hash20 = [UInt8](repeating: 0xAB, count: 20)

    static func torrent(_ info: [String: BencodeValue]) -> [UInt8] {
        BencodeEncoder.encode(.dict(["info": .dict(info), "announce": .string("http://127.0.0.1/a")]))
    }

    /// A multi-file torrent with these files (raw path components, lengths 10 unless given).
    static func multi(name: BencodeValue = .string("dir"), _ files: [BencodeValue]) -> [UInt8] {
        torrent(["name": name, "piece length": .integer(16384), "pieces": .bytes(hash20), "files": .list(files)])
    }

    static func file(_ path: [[UInt8]], length: Int64 = 10, attr: String? = nil) -> BencodeValue {
        var entry: [String: BencodeValue] = ["path": .list(path.map { .bytes($0) }), "length": .integer(length)]
        if let attr { entry["attr"] = .string(attr) }
        return .dict(entry)
    }

    static func file(_ path: [String], length: Int64 = 10, attr: String? = nil) -> BencodeValue {
        file(path.map { Array($0.utf8) }, length: length, attr: attr)
    }

    static func paths(_ metainfo: Metainfo) -> [String] { metainfo.info.files.map(\.displayPath) }

    @Test func trailingBytesAfterTheRootAreIgnored() throws {
        let clean = Self.multi([Self.file(["a"])])
        let withNewline = try Metainfo(bytes: clean + [0x0A])
        #expect(withNewline.infoHash == (try Metainfo(bytes: clean)).infoHash)
        #expect(try Metainfo(bytes: clean + Array("junk appended by a web page".utf8)).info.files.count == 1)
    }

    @Test func dotDotAndEmptyComponentsAreDropped() throws {
        let metainfo = try Metainfo(bytes: Self.multi([
            Self.file(["a", "..", "..", "b"]), Self.file([".", "c", ""]), Self.file(["..", "..", "etc", "passwd"]),
        ]))
        #expect(Self.paths(metainfo) == ["a/b", "c", "etc/passwd"])
    }

    @Test func slashesInsideAComponentBecomeUnderscores() throws {
        let metainfo = try Metainfo(bytes: Self.multi([Self.file(["/etc/passwd"]), Self.file(["foo/../../../bar"]), Self.file(["/"])]))
        #expect(Self.paths(metainfo) == ["_etc_passwd", "foo_.._.._.._bar", "_"])
        let single = try Metainfo(bytes: Self.torrent(["name": .string("temp/../../abc"), "piece length": .integer(16384),
                                                       "pieces": .bytes(Self.hash20), "length": .integer(10)]))
        #expect(single.info.name == "temp_.._.._abc")
    }

    @Test func aPathOfNothingButDotsBecomesAnUnderscore() throws {
        let metainfo = try Metainfo(bytes: Self.multi([Self.file([".."]), Self.file([] as [String])]))
        #expect(Self.paths(metainfo) == ["_", "_.1"])
    }

    @Test func duplicatesAreRenamedWithASuffix() throws {
        let metainfo = try Metainfo(bytes: Self.multi([
            Self.file(["foo", "bar.txt"]), Self.file(["foo", "bar.txt"]), Self.file(["foo", "bar.txt"]), Self.file(["noext"]),
            Self.file(["noext"]),
        ]))
        #expect(Self.paths(metainfo) == ["foo/bar.txt", "foo/bar.1.txt", "foo/bar.2.txt", "noext", "noext.1"])
    }

    @Test func aFileWhereADirectoryMustGoIsRenamed() throws {
        let metainfo = try Metainfo(bytes: Self.multi([Self.file(["a"]), Self.file(["a", "b"])]))
        #expect(Self.paths(metainfo) == ["a.1", "a/b"])
    }

    /// A name of `..` (or one that sanitizes to nothing) is replaced by the info-hash, as
    /// libtorrent does.
    @Test func anUnusableNameBecomesTheInfoHash() throws {
        let metainfo = try Metainfo(bytes: Self.multi(name: .string(".."), [Self.file(["x"])]))
        #expect(metainfo.info.name == metainfo.infoHash.hex)
        let empty = try Metainfo(bytes: Self.multi(name: .string(""), [Self.file(["x"])]))
        #expect(empty.info.name == empty.infoHash.hex)
    }

    @Test func aPaddingFileNeedsNoPath() throws {
        let bytes = Self.torrent(["name": .string("dir"), "piece length": .integer(16384), "pieces": .bytes(Self.hash20 + Self.hash20),
                                  "files": .list([Self.file(["a"], length: 10),
                                                  .dict(["length": .integer(16374), "attr": .string("p")]),
                                                  Self.file(["b"], length: 10)])])
        let metainfo = try Metainfo(bytes: bytes)
        #expect(metainfo.info.files.map(\.isPadding) == [false, true, false])
        #expect(metainfo.info.files[2].offset == 16384)
    }

    @Test func bitCometPaddingWithoutAttrIsPadding() throws {
        let bytes = Self.torrent(["name": .string("dir"), "piece length": .integer(16384), "pieces": .bytes(Self.hash20 + Self.hash20),
                                  "files": .list([Self.file(["a"], length: 10),
                                                  Self.file(["_____padding_file_0_if you see this file, please update to BitComet 0.85 or above____"],
                                                            length: 16374),
                                                  Self.file(["b"], length: 10)])])
        let metainfo = try Metainfo(bytes: bytes)
        #expect(metainfo.info.files.map(\.isPadding) == [false, true, false])
        #expect(metainfo.info.files[1].isVirtual, "never written to disk")
    }

    @Test func aZeroSizeSymlinkWithoutLengthIsListedNotCreated() throws {
        let link = BencodeValue.dict(["path": .list([.string("link")]), "attr": .string("l"),
                                      "symlink path": .list([.string("a")])])
        let metainfo = try Metainfo(bytes: Self.multi([Self.file(["a"]), link]))
        #expect(metainfo.info.files.map(\.isSymlink) == [false, true])
        #expect(metainfo.info.files[1].length == 0 && metainfo.info.files[1].isVirtual)
    }

    @Test(arguments: [49_152, 16_384 * 3 * 7, 128 << 20])
    func anyMultipleOf16KiBIsAPieceLength(length: Int) throws {
        let metainfo = try Metainfo(bytes: Self.torrent(["name": .string("a"), "piece length": .integer(Int64(length)),
                                                         "pieces": .bytes(Self.hash20), "length": .integer(100)]))
        #expect(metainfo.info.pieceLength == length)
    }

    /// A v2-only torrent (BEP 52) is read: known by its SHA-256 cut to 20 bytes, its one small
    /// file checked against its pieces root (it was once refused as unsupported).
    @Test func aV2OnlyTorrentIsRead() throws {
        let data = Array("hello".utf8)
        let bytes = Self.torrent(["name": .string("v2"), "piece length": .integer(16384), "meta version": .integer(2),
                                  "file tree": .dict(["a": .dict(["": .dict(["length": .integer(5), "pieces root": .bytes(MerkleTree.hash(data))])])])])
        let metainfo = try Metainfo(bytes: bytes)
        #expect(metainfo.info.v2?.isOnly == true && metainfo.infoHash.bytes == Array(metainfo.infoHashV2!.prefix(20)))
        #expect(metainfo.info.pieceMatches(data + [UInt8](repeating: 0, count: 16379), metainfo.info.geometry.piece(0)!))
        #expect(!metainfo.info.pieceMatches(Array("hellO".utf8) + [UInt8](repeating: 0, count: 16379), metainfo.info.geometry.piece(0)!))
    }

    /// A v2-only torrent's sizes bound nothing but its claims: one that claims a petabyte file
    /// in 16 KiB pieces, or two files whose lengths overflow, is refused before anything is
    /// made for its pieces.
    @Test func aV2TorrentsClaimedSizesAreBounded() {
        func v2(_ lengths: [Int64]) -> [UInt8] {
            var tree: [String: BencodeValue] = [:]
            for (n, length) in lengths.enumerated() {
                tree["f\(n)"] = .dict(["": .dict(["length": .integer(length), "pieces root": .bytes(MerkleTree.hash([UInt8(n)]))])])
            }
            return Self.torrent(["name": .string("v2"), "piece length": .integer(16384), "meta version": .integer(2), "file tree": .dict(tree)])
        }
        for lengths in [[Int64(1) << 50], [Int64.max / 2, Int64.max / 2], [Int64.max], [Int64(1) << 40]] {
            #expect(throws: MetainfoError.self, "\(lengths)") { try Metainfo(bytes: v2(lengths)) }
        }
        #expect(throws: Never.self) { try Metainfo(bytes: v2([16384 * 5])) }
    }

    /// Two Latin-1 names that differ stay two files: their bytes are kept on disk, and shown as
    /// Latin-1 (they both became `caf\u{FFFD}.txt` and the torrent was refused as a duplicate).
    @Test func latin1NamesStayDistinct() throws {
        let e9 = Array("caf".utf8) + [0xE9] + Array(".txt".utf8)
        let e8 = Array("caf".utf8) + [0xE8] + Array(".txt".utf8)
        let metainfo = try Metainfo(bytes: Self.multi([Self.file([e9]), Self.file([e8])]))
        #expect(metainfo.info.files.map(\.diskPath) == [[e9], [e8]])
        #expect(Self.paths(metainfo) == ["café.txt", "cafè.txt"])
    }

    @Test func anOverlongNameIsShortenedKeepingItsExtension() throws {
        let long = String(repeating: "é", count: 200) + ".mkv"  // 404 bytes
        let metainfo = try Metainfo(bytes: Self.multi([Self.file([long])]))
        let disk = try #require(metainfo.info.files.first?.diskPath.first)
        #expect(disk.count <= 255)
        #expect(String(validating: disk, as: UTF8.self)?.hasSuffix("é.mkv") == true, "cut at a character boundary")
    }

    @Test func controlCharactersInNamesBecomeUnderscores() throws {
        let metainfo = try Metainfo(bytes: Self.multi([Self.file(["a\u{1B}[2Jb"]), Self.file([[0x61, 0x00, 0x62]]),
                                                       Self.file(["evil\u{202E}txt.exe"]), Self.file(["x\u{2066}y"])]))
        #expect(Self.paths(metainfo) == ["a_[2Jb", "a_b", "evil_txt.exe", "x_y"])
    }
}
