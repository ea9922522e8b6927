import Foundation
import ShoalCore
import Testing

@Suite("shoal info")
struct InfoCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ShoalCoreTests/Fixtures")

    static var fixtureFiles: [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: fixtures, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "torrent" }.sorted { $0.path < $1.path }
    }

    @Test func printsLikeTransmissionShow() async throws {
        let file = Self.fixtures.appendingPathComponent("mktorrent-private-multitier.torrent")
        let result = try await ShoalBinary.run(["info", file.path])
        #expect(result.status == 0)
        let expectedHash = try Metainfo(bytes: Array(Data(contentsOf: file))).infoHash.hex
        for line in ["Name: multi", "Hash: \(expectedHash)", "Privacy: Private torrent", "Tier #2",
                     "http://127.0.0.2:80/announce", "multi/a.dat (39.06 KiB)", "Comment: a comment", "Piece Size: 256.00 KiB"] {
            #expect(result.stdout.contains(line), "missing \(line)")
        }
    }

    /// A v2-only and a hybrid torrent made by libtorrent: both hashes, the meta version, each
    /// file's pieces root; a hybrid whose halves disagree is refused with the reason.
    @Test func showsV2Hashes() async throws {
        let v2 = Self.fixtures.appendingPathComponent("v2/v2-multi.torrent")
        let metainfo = try Metainfo(bytes: Array(Data(contentsOf: v2)))
        let text = try await ShoalBinary.run(["info", v2.path]).stdout
        let root = Hex.encode(metainfo.info.v2!.files[0].piecesRoot!)
        for line in ["Hash: \(metainfo.infoHash.hex)", "Hash v2: \(Hex.encode(metainfo.infoHashV2!))", "Meta version: 2 (v2 only)",
                     "multi/big.bin (97.66 KiB)\n    pieces root \(root)", "magnet:?xt=urn:btmh:1220\(Hex.encode(metainfo.infoHashV2!))"] {
            #expect(text.contains(line), "missing \(line) in \(text)")
        }
        let json = try await ShoalBinary.run(["info", "--json", Self.fixtures.appendingPathComponent("v2/hybrid-single.torrent").path])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["metaVersion"] as? Int == 2 && (object["infoHashV2"] as? String)?.count == 64)
        let refused = try await ShoalBinary.run(["info", Self.fixtures.appendingPathComponent("v2/v2-mismatching-halves.torrent").path])
        #expect(refused.status == 1 && refused.stderr.contains("the v1 and v2 halves of this hybrid torrent disagree"))
    }

    @Test func printsJSON() async throws {
        let file = Self.fixtures.appendingPathComponent("libtorrent-unicode.torrent")
        let result = try await ShoalBinary.run(["info", file.path, "--json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["name"] as? String == "Grüße 日本")
        #expect((object["files"] as? [Any])?.count == 2)
        #expect(object["pieceCount"] as? Int == 2)  // 52,000 bytes in 32 KiB pieces
    }

    @Test func showsAMagnet() async throws {
        let result = try await ShoalBinary.run(["info", "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=thing&tr=http://127.0.0.1/a"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Hash: c12fe1c06bba254a9dc9f519b335aa7c1367a88a"))
        #expect(result.stdout.contains("Name: thing"))
        let bad = try await ShoalBinary.run(["info", "magnet:?xt=urn:btih:zz"])
        #expect(bad.status == 1)
        #expect(bad.stderr.hasPrefix("shoal: invalid magnet link"))
    }

    @Test func missingFile() async throws {
        let result = try await ShoalBinary.run(["info", "/nonexistent/x.torrent"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot read"))
    }

    /// Truncated and bit-flipped copies of every fixture: a clean one-line error naming a byte
    /// offset and status 1, or (for a flip outside the structure) a normal report. Never a crash.
    @Test(arguments: fixtureFiles)
    func malformedInputNeverCrashes(fixture: URL) async throws {
        let directory = try TemporaryDirectory()
        let bytes = try Data(contentsOf: fixture)
        var variants: [Data] = []
        for cut in [0, 1, bytes.count / 3, bytes.count / 2, bytes.count - 1] { variants.append(bytes.prefix(cut)) }
        var state: UInt64 = UInt64(bytes.count)
        for _ in 0..<6 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            var flipped = bytes
            let position = Int(state >> 33) % bytes.count
            flipped[position] ^= UInt8(1 << ((state >> 20) % 8))
            variants.append(flipped)
        }
        for (number, variant) in variants.enumerated() {
            let file = directory.url.appendingPathComponent("v\(number).torrent")
            try variant.write(to: file)
            let result = try await ShoalBinary.run(["info", file.path])
            #expect(result.status == 0 || result.status == 1, "variant \(number): status \(result.status)")
            if result.status == 1 {
                let lines = result.stderr.split(separator: "\n")
                #expect(lines.count == 1, "variant \(number): \(result.stderr)")
                #expect(result.stderr.contains("invalid torrent"), "variant \(number): \(result.stderr)")
                #expect(result.stderr.contains("at byte"), "variant \(number): \(result.stderr)")
                #expect(result.stdout.isEmpty)
            }
        }
    }
}
