import Testing
@testable import ShoalCore

@Suite("Metainfo: torrents made by mktorrent, transmission-create and libtorrent")
struct MetainfoFixtureTests {
    @Test("parses with the info-hash and layout the creating tool reports", arguments: Fixtures.manifest)
    func parsesFixture(expected: Fixtures.Expectation) throws {
        let metainfo = try Metainfo(bytes: Fixtures.bytes(expected.file))
        #expect(metainfo.infoHash.hex == expected.infoHash)
        #expect(metainfo.info.name == expected.name)
        #expect(metainfo.info.totalLength == expected.totalSize)
        #expect(metainfo.info.pieceLength == expected.pieceLength)
        #expect(metainfo.info.pieceCount == expected.pieceCount)
        #expect(metainfo.info.isPrivate == expected.private)
        let paths = metainfo.info.files.filter { !$0.isPadding }.map {
            metainfo.info.isSingleFile ? $0.displayPath : metainfo.info.name + "/" + $0.displayPath
        }
        #expect(paths == expected.files)
        // libtorrent may reorder trackers inside a tier; the tiers themselves must match.
        #expect(metainfo.trackerTiers.map { Set($0) } == expected.tiers.map { Set($0) })
    }

    @Test func rawInfoIsTheExactSlice() throws {
        let bytes = Fixtures.bytes("mktorrent-private-multitier.torrent")
        let metainfo = try Metainfo(bytes: bytes)
        let reparsed = try Metainfo(rawInfo: metainfo.rawInfo, trackerTiers: [])
        #expect(reparsed.infoHash == metainfo.infoHash)
        #expect(metainfo.comment == "a comment")
        #expect(metainfo.createdBy?.hasPrefix("mktorrent") == true)
        #expect(metainfo.creationDate != nil)
    }

    @Test("every truncation of every fixture is rejected with an offset")
    func truncationsAreRejected() {
        for fixture in Fixtures.manifest {
            let bytes = Fixtures.bytes(fixture.file)
            for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 200)) {
                do {
                    _ = try Metainfo(bytes: Array(bytes[0..<cut]))
                    Issue.record("\(fixture.file) cut at \(cut) was accepted")
                } catch {
                    #expect(error.offset != nil)
                }
            }
        }
    }

    @Test("bit flips never crash the parser and never yield the original hash")
    func bitFlipsAreHandled() {
        var rng = SeededRandom(seed: 42)
        for fixture in Fixtures.manifest {
            let bytes = Fixtures.bytes(fixture.file)
            for _ in 0..<300 {
                var mutated = bytes
                let position = Int.random(in: 0..<mutated.count, using: &rng)
                mutated[position] ^= UInt8(1) << UInt8.random(in: 0...7, using: &rng)
                if let parsed = try? Metainfo(bytes: mutated) {
                    // A flip inside `info` must change the hash; outside it must not.
                    let original = try! Metainfo(bytes: bytes)
                    let flippedInInfo = bytes.firstRange(of: original.rawInfo).map { $0.contains(position) } ?? false
                    #expect((parsed.infoHash == original.infoHash) != flippedInInfo)
                }
            }
        }
    }
}
