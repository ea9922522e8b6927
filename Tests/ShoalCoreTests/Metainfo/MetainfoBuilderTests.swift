import Testing
@testable import ShoalCore

@Suite("Metainfo builder")
struct MetainfoBuilderTests {
    @Test("automatic piece length gives 1,000-2,000 pieces within 16 KiB...16 MiB",
          arguments: [Int64(1), 1 << 20, 100 << 20, 1 << 30, 7 << 30, 64 << 30, 1 << 40])
    func automaticPieceLength(total: Int64) {
        let length = MetainfoBuilder.automaticPieceLength(totalLength: total)
        #expect(length >= 16 << 10 && length <= 16 << 20 && length & (length - 1) == 0)
        let pieces = (total + Int64(length) - 1) / Int64(length)
        if length > 16 << 10 && length < 16 << 20 { #expect(pieces > 1000 && pieces <= 2000) }
        if length == 16 << 10 { #expect(pieces <= 2000) }
    }

    @Test func buildsAParsableTorrent() throws {
        var builder = MetainfoBuilder(name: "dir", files: [.init(path: ["a"], length: 5), .init(path: ["b", "c"], length: 20000)],
                                      length: 20005, pieceLength: 16384, pieceHashes: [UInt8](repeating: 1, count: 40))
        builder.trackerTiers = [["http://127.0.0.1/a", "http://127.0.0.1/b"], ["udp://127.0.0.1:2/c"]]
        builder.isPrivate = true
        builder.comment = "hello"
        builder.createdBy = "test"
        builder.creationDate = 1_700_000_000
        let metainfo = try Metainfo(bytes: builder.encoded())
        #expect(metainfo.info.files.map(\.path) == [["a"], ["b", "c"]])
        #expect(metainfo.info.isPrivate)
        #expect(metainfo.trackerTiers == builder.trackerTiers)
        #expect(metainfo.comment == "hello")
        #expect(metainfo.creationDate == 1_700_000_000)
        #expect(metainfo.rawInfo == BencodeEncoder.encode(builder.infoValue))
    }

    @Test func aSingleTrackerHasNoAnnounceList() throws {
        var builder = MetainfoBuilder(name: "f", files: nil, length: 1, pieceLength: 16384, pieceHashes: [UInt8](repeating: 0, count: 20))
        builder.trackerTiers = [["http://127.0.0.1/a"]]
        let root = try BencodeDecoder.decode(builder.encoded())
        #expect(root["announce-list"] == nil)
        #expect(root["announce"]?.bytes == Array("http://127.0.0.1/a".utf8))
    }
}

@Suite("Writing a parsed torrent back")
struct MetainfoFileBytesTests {
    @Test("keeps the info-hash and the trackers of every fixture", arguments: Fixtures.manifest)
    func roundTrip(expected: Fixtures.Expectation) throws {
        let original = try Metainfo(bytes: Fixtures.bytes(expected.file))
        let again = try Metainfo(bytes: original.fileBytes)
        #expect(again.infoHash == original.infoHash)
        #expect(again.trackerTiers == original.trackerTiers)
        #expect(again.comment == original.comment)
    }
}
