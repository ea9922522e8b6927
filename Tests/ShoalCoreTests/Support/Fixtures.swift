import Foundation

/// The .torrent fixtures made by mktorrent, transmission-create and libtorrent
/// (Scripts/make-fixtures.py), and what those tools reported about each.
enum Fixtures {
    struct Expectation: Decodable, Sendable, CustomStringConvertible {
        let file: String
        let infoHash: String
        let name: String
        let totalSize: Int64
        let pieceLength: Int
        let pieceCount: Int
        let `private`: Bool
        let files: [String]
        let tiers: [[String]]
        var description: String { file }
    }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static let manifest: [Expectation] = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        return try! JSONDecoder().decode([Expectation].self, from: data)
    }()

    static func bytes(_ name: String) -> [UInt8] {
        Array(try! Data(contentsOf: directory.appendingPathComponent(name)))
    }
}
