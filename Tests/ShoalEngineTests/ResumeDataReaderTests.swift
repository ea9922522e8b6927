import Foundation
import ShoalCore
@testable import ShoalEngine
import Testing

/// The fast resume-data reader reads what Shoal writes exactly as `JSONDecoder` does, and
/// gives up (nil, so the caller falls back to `JSONDecoder`) on anything else.
@Suite("Resume data reader")
struct ResumeDataReaderTests {
    private func random(_ rng: inout SplitMix64) -> ResumeData {
        let pieces = Int(rng.next() % 5000)
        let bytes = (0..<(pieces + 7) / 8).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let files = (0..<Int(rng.next() % 6)).map { _ -> ResumeData.FileStamp? in
            rng.next() % 4 == 0 ? nil : ResumeData.FileStamp(size: Int64(bitPattern: rng.next()) >> Int64(rng.next() % 64),
                                                           modified: Int64(bitPattern: rng.next()))
        }
        let hash = (0..<20).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        return ResumeData(infoHash: Hex.encode(hash), pieceCount: pieces, have: Hex.encode(bytes), files: files)
    }

    @Test func readsWhatTheEncoderWritesAsTheDecoderDoes() throws {
        var rng = SplitMix64(seed: 7)
        for round in 0..<500 {
            let data = random(&rng)
            let encoder = JSONEncoder()
            encoder.outputFormatting = round % 2 == 0 ? [.sortedKeys] : [.prettyPrinted]
            let bytes = try encoder.encode(data)
            let fast = try #require(ResumeDataReader.read(Array(bytes)), "round \(round): \(String(decoding: bytes, as: UTF8.self))")
            #expect(fast == data)
            #expect(fast == (try JSONDecoder().decode(ResumeData.self, from: bytes)))
        }
    }

    @Test func extremesOfInt64AreExact() throws {
        let data = ResumeData(infoHash: "ab", pieceCount: 0, have: "",
                              files: [ResumeData.FileStamp(size: .max, modified: .min), nil, ResumeData.FileStamp(size: 0, modified: -1)])
        let bytes = try JSONEncoder().encode(data)
        #expect(ResumeDataReader.read(Array(bytes)) == data)
    }

    @Test(arguments: [
        #"{"infoHash":"ab","pieceCount":1,"have":"80","files":[]"#,  // truncated
        #"{"infoHash":"ab","pieceCount":1,"have":"80"}"#,  // a field missing
        #"{"infoHash":"ab","pieceCount":1,"have":"80","files":[],"extra":1}"#,  // a field it does not know
        #"{"infoHash":"ab","infoHash":"cd","pieceCount":1,"have":"80","files":[]}"#,  // a field twice
        #"{"infoHash":"\ud83d\udc1f","pieceCount":1,"have":"80","files":[]}"#,  // a surrogate pair: the decoder's
        #"{"infoHash":"ab","pieceCount":1.5,"have":"80","files":[]}"#,  // a fraction
        #"{"infoHash":"ab","pieceCount":1e3,"have":"80","files":[]}"#,  // an exponent
        #"{"infoHash":"ab","pieceCount":01,"have":"80","files":[]}"#,  // a leading zero
        #"{"infoHash":"ab","pieceCount":99999999999999999999,"have":"80","files":[]}"#,  // past Int64
        #"{"infoHash":"ab","pieceCount":1,"have":"80","files":[{"size":1}]}"#,  // a stamp missing its time
        #"{"infoHash":"ab","pieceCount":1,"have":"80","files":[]} x"#,  // trailing bytes
        #"[]"#, "",
    ])
    func anythingElseIsLeftToTheDecoder(_ text: String) {
        #expect(ResumeDataReader.read(Array(text.utf8)) == nil)
    }

    @Test func escapesReadAsTheDecoderReadsThem() throws {
        let text = #"{"infoHash":"a\u0062\/\\\"\t","pieceCount":1,"have":"80","files":[]}"#
        let fast = try #require(ResumeDataReader.read(Array(text.utf8)))
        #expect(fast == (try JSONDecoder().decode(ResumeData.self, from: Data(text.utf8))))
        #expect(fast.infoHash == "ab/\\\"\t")
    }

    @Test func spacingIsFine() {
        let text = " { \"files\" : [ null , { \"modified\" : -5 , \"size\" : 7 } ] ,\n\t\"have\":\"c0\", \"pieceCount\" : 2 , \"infoHash\" : \"ab\" } \n"
        #expect(ResumeDataReader.read(Array(text.utf8))
            == ResumeData(infoHash: "ab", pieceCount: 2, have: "c0", files: [nil, ResumeData.FileStamp(size: 7, modified: -5)]))
    }

    /// The store reads through the shortcut and falls back to the decoder: a record with a
    /// field the shortcut does not know (valid JSON it refuses) still loads.
    @Test func theStoreFallsBackToTheDecoder() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("resume-reader-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = SessionStore(directory: directory.path)
        let hash = try #require(InfoHash(text: String(repeating: "ab", count: 20)))
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("resume"), withIntermediateDirectories: true)
        let text = #"{"infoHash":"ab","pieceCount":1,"have":"80","files":[null],"later":true}"#
        try Data(text.utf8).write(to: URL(fileURLWithPath: store.resumePath(hash)))
        #expect(store.loadResume(hash) == ResumeData(infoHash: "ab", pieceCount: 1, have: "80", files: [nil]))
    }
}
