import Testing
@testable import ShoalCore

@Suite("HTTP scrape (BEP 48)")
struct ScrapeResponseTests {
    let hash = InfoHash(bytes: [0x00, 0x20, 0x7F, 0xFF] + [UInt8](repeating: 0x41, count: 16))!

    /// BEP 48's conversion table, plus URLs with no path at all.
    static let conversions: [(String, String?)] = [
        ("http://example.com/announce", "http://example.com/scrape"),
        ("http://example.com/x/announce", "http://example.com/x/scrape"),
        ("http://example.com/announce.php", "http://example.com/scrape.php"),
        ("http://example.com/a", nil),
        ("http://example.com/announce?x2%0644", "http://example.com/scrape?x2%0644"),
        ("http://example.com/announce?x=2/4", "http://example.com/scrape?x=2/4"),
        ("http://example.com/x%064announce", nil),
        ("http://announce.example.com", nil),
        ("http://127.0.0.1:6969/announce/", nil),
    ]

    @Test("scrape URL from announce URL", arguments: conversions)
    func scrapeURL(announce: String, expected: String?) {
        #expect(ScrapeResponse.url(announce: announce, hashes: []) == expected)
    }

    @Test func hashesAreAppendedAfterAnyQuery() {
        let encoded = "%00%20%7F%FFAAAAAAAAAAAAAAAA"
        #expect(ScrapeResponse.url(announce: "http://t:1/announce", hashes: [hash, hash])
            == "http://t:1/scrape?info_hash=\(encoded)&info_hash=\(encoded)")
        #expect(ScrapeResponse.url(announce: "http://t:1/announce?passkey=k", hashes: [hash])
            == "http://t:1/scrape?passkey=k&info_hash=\(encoded)")
    }

    @Test func parsesFilesAndSkipsOddEntries() throws {
        let body = BencodeEncoder.encode(.dictionary([
            Array("files".utf8): .dictionary([
                hash.bytes: .dict(["complete": .integer(5), "downloaded": .integer(50), "incomplete": .integer(7)]),
                Array("short".utf8): .dict(["complete": .integer(1)]),
                [UInt8](repeating: 1, count: 20): .integer(3),
                [UInt8](repeating: 2, count: 20): .dict(["complete": .integer(-4)]),
            ]),
        ]))
        let counts = try ScrapeResponse.parse(httpBody: body)
        #expect(counts.count == 2)
        #expect(counts[hash] == ScrapeCounts(seeders: 5, completed: 50, leechers: 7))
        #expect(counts[InfoHash(bytes: [UInt8](repeating: 2, count: 20))!] == ScrapeCounts(seeders: 0, completed: 0, leechers: 0))
    }

    @Test func failuresAreReported() {
        #expect(throws: AnnounceResponse.Failure.rejected("no scrape here")) {
            try ScrapeResponse.parse(httpBody: Array("d14:failure reason14:no scrape heree".utf8))
        }
        #expect(throws: AnnounceResponse.Failure.malformed("missing 'files'")) {
            try ScrapeResponse.parse(httpBody: Array("de".utf8))
        }
        #expect(throws: AnnounceResponse.Failure.self) { try ScrapeResponse.parse(httpBody: Array("<html>".utf8)) }
        #expect(throws: AnnounceResponse.Failure.self) { try ScrapeResponse.parse(httpBody: Array("li1ee".utf8)) }
    }
}
