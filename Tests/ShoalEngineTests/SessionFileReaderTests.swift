import Foundation
import ShoalCore
@testable import ShoalEngine
import Testing

/// The fast session-file reader reads what Shoal writes exactly as `JSONDecoder` does, and
/// gives up (nil: the store falls back to the decoder) on anything else.
@Suite("Session file reader")
struct SessionFileReaderTests {
    private static let awkward = ["/data", "/tmp/a b/c", "/q\"uote\\back/slash", "/tab\there", "/ctl\u{01}x", "/café/日本/🐟",
                                  "/line\nbreak", ""]

    private func random(_ rng: inout SplitMix64) -> SessionStore.Entry {
        func pick<T>(_ values: [T]) -> T { values[Int(rng.next() % UInt64(values.count))] }
        func maybe<T>(_ value: T) -> T? { rng.next() % 2 == 0 ? value : nil }
        let hash = Hex.encode((0..<20).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        let added = Double(Int64(bitPattern: rng.next()) >> 34) + Double(rng.next() % 1_000_000) / 1_000_000
        return SessionStore.Entry(
            infoHash: hash, downloadDirectory: pick(Self.awkward), paused: rng.next() % 2 == 0, seedWhenDone: rng.next() % 2 == 0,
            filePriorities: (0..<Int(rng.next() % 5)).map { _ in Int(rng.next() % 3) - 1 },
            added: Date(timeIntervalSinceReferenceDate: added),
            completed: maybe(Date(timeIntervalSinceReferenceDate: added + Double(rng.next() % 10_000) / 7)),
            uploaded: Int64(bitPattern: rng.next()) >> Int64(rng.next() % 64), downloaded: pick([0, .max, .min, 1 << 53 + 1]),
            uploadLimit: maybe(Int(rng.next() % 1_000_000)), downloadLimit: maybe(0),
            magnet: maybe("magnet:?xt=urn:btih:\(hash)&dn=\(pick(Self.awkward))"),
            labels: maybe((0..<Int(rng.next() % 3)).map { _ in pick(Self.awkward) }),
            seedRatio: maybe(pick([SeedRatioGoal.session, .unlimited, .own(1.5), .own(0), .own(1e-7)])),
            trackers: maybe([["udp://127.0.0.1:1/announce", "http://[::1]:2/a?b=c&d"], [], ["https://x/"]]),
            sequential: maybe(rng.next() % 2 == 0),
            activity: maybe(Date(timeIntervalSinceReferenceDate: Double(rng.next() % 1_000_000_000) / 3)),
            peerLimit: maybe(Int(rng.next() % 500)))
    }

    private func document(_ rng: inout SplitMix64, count: Int) -> SessionStore.Document {
        var remote = SessionStore.RemoteSettings(altSpeed: AltSpeed(), seedRatioLimit: 2, downloadDirectory: "/x\\/y",
                                                 peers: SessionStore.PeerSettings(port: 6881))
        remote.altSpeed.enabled = true
        return SessionStore.Document(torrents: (0..<count).map { _ in random(&rng) },
                                     limits: rng.next() % 2 == 0 ? SessionStore.Limits(upload: 5, download: 6) : nil,
                                     remote: rng.next() % 2 == 0 ? remote : nil, journal: rng.next() % 2 == 0 ? 52 : nil)
    }

    @Test func readsWhatTheEncoderWritesAsTheDecoderDoes() throws {
        var rng = SplitMix64(seed: 11)
        for round in 0..<200 {
            let written = document(&rng, count: Int(rng.next() % 12))
            let encoder = JSONEncoder()
            // As the store writes it, and with other spacing and key order.
            encoder.outputFormatting = round % 3 == 0 ? [.prettyPrinted] : [.sortedKeys]
            let bytes = try encoder.encode(written)
            let decoded = try JSONDecoder().decode(SessionStore.Document.self, from: bytes)
            let fast = try #require(SessionFileReader.read(Array(bytes)), "round \(round): \(String(decoding: bytes, as: UTF8.self))")
            #expect(fast.torrents == decoded.torrents, "round \(round)")
            #expect(fast.limits == decoded.limits && fast.remote == decoded.remote && fast.journal == decoded.journal)
            #expect(fast.torrents == written.torrents, "round \(round): what was written comes back")
        }
    }

    @Test func aStringLikeTheOneBeforeItIsReadWhole() {
        var scanner = JSONScanner(Array(#"["/d","/d","/d\/e","/d","/","/d"]"#.utf8))
        var strings: [String] = []
        #expect(scanner.array { scanner in
            guard let text = scanner.string() else { return false }
            strings.append(text)
            return true
        })
        #expect(strings == ["/d", "/d", "/d/e", "/d", "/", "/d"])
    }

    private static let entry = #"{"added":1.5,"downloadDirectory":"\/d","downloaded":0,"filePriorities":[1],"infoHash":"ab","paused":false,"seedWhenDone":true,"uploaded":0"#

    @Test(arguments: [
        #"{"torrents":[\#(entry)}],"version":1"#,  // truncated
        #"{"torrents":[\#(entry)}],"version":2}"#,  // a version it does not know
        #"{"torrents":[\#(entry)}]}"#,  // no version
        #"{"torrents":[\#(entry),"extra":1}],"version":1}"#,  // a field it does not know
        #"{"torrents":[\#(entry),"paused":true}],"version":1}"#,  // a field twice
        #"{"torrents":[{"added":1.5,"infoHash":"ab"}],"version":1}"#,  // fields missing
        #"{"torrents":[\#(entry),"uploadLimit":1.5}],"version":1}"#,  // a fraction for an integer
        #"{"torrents":[\#(entry),"seedRatio":{"own":{}}}],"version":1}"#,  // a ratio goal without its ratio
        #"{"torrents":[\#(entry),"magnet":"\ud83d\udc1f"}],"version":1}"#,  // a surrogate pair: the decoder's
        #"{"torrents":[\#(entry),"activity":01}],"version":1}"#,  // a leading zero
        #"{"torrents":[\#(entry)}],"version":1} x"#,  // trailing bytes
        "[]", "",
    ])
    func anythingElseIsLeftToTheDecoder(_ text: String) {
        #expect(SessionFileReader.read(Array(text.utf8)) == nil)
    }

    /// The store reads through the shortcut and falls back to the decoder: a file with a field
    /// the shortcut does not know (one a later version might write) still loads.
    @Test func theStoreFallsBackToTheDecoder() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("session-reader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = SessionStore(directory: directory.path)
        let text = #"{"torrents":[\#(Self.entry),"later":[1,{"a":null}]}],"version":1,"journal":3}"#
        try Data(text.utf8).write(to: URL(fileURLWithPath: store.sessionPath))
        let saved = try store.loadSession()
        #expect(saved.torrents.map(\.downloadDirectory) == ["/d"] && saved.journal == 3)
    }
}
