/// Turns the names a torrent gives its files into names that are safe on disk, instead of
/// refusing torrents users meet in the wild (libtorrent loads them too). Nothing it returns can
/// leave the download directory: no component is empty, `.` or `..`, or holds `/` or NUL.
///
/// - `/` (and NUL and other control characters) become `_`: `a/../b` is one odd name, not a path;
/// - so do the bidirectional overrides that make `evil\u{202E}txt.exe` read as `evilexe.txt`;
/// - empty, `.` and `..` components are dropped, or become `_` when nothing would be left;
/// - a component over 255 bytes is cut to 240, keeping a short extension;
/// - bytes that are not UTF-8 are kept as they are on disk (`caf\xe9.txt` and `caf\xe8.txt`
///   stay two files), and shown as Latin-1;
/// - after all that, paths that collide get `.1`, `.2`... before their extension.
public enum PathSanitizer {
    static let underscore = UInt8(ascii: "_")
    static let maxComponent = 255

    /// One name made safe; nil when it should be dropped (empty, `.`, `..`).
    public static func component(_ raw: [UInt8]) -> [UInt8]? {
        var bytes = withoutBidiControls(raw.map { $0 == UInt8(ascii: "/") || $0 < 0x20 || $0 == 0x7F ? underscore : $0 })
        if bytes.isEmpty || bytes == [UInt8(ascii: ".")] || bytes == [UInt8(ascii: "."), UInt8(ascii: ".")] { return nil }
        if bytes.count > maxComponent { bytes = shortened(bytes) }
        return bytes
    }

    /// A path's components made safe; never empty (a path that sanitizes to nothing is `_`).
    public static func path(_ raw: [[UInt8]]) -> [[UInt8]] {
        let kept = raw.compactMap(component)
        return kept.isEmpty ? [[underscore]] : kept
    }

    /// U+202A–202E and U+2066–2069 (E2 80 AA–AE, E2 81 A6–A9 in UTF-8) replaced by `_`.
    static func withoutBidiControls(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(0xE2) else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0xE2, index + 2 < bytes.count,
                (bytes[index + 1] == 0x80 && (0xAA...0xAE).contains(bytes[index + 2]))
                    || (bytes[index + 1] == 0x81 && (0xA6...0xA9).contains(bytes[index + 2])) {
                out.append(underscore)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    /// Cut to 240 bytes at a character boundary, with the extension (up to 10 bytes) kept.
    static func shortened(_ bytes: [UInt8]) -> [UInt8] {
        var extensionStart: Int?
        if let dot = bytes.lastIndex(of: UInt8(ascii: ".")), bytes.count - dot <= 10, dot > 0 { extensionStart = dot }
        let tail = extensionStart.map { Array(bytes[$0...]) } ?? []
        var cut = 240 - tail.count
        // Not in the middle of a UTF-8 sequence (continuation bytes are 10xxxxxx).
        while cut > 0 && bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
        return Array(bytes[..<cut]) + tail
    }

    /// Renames later paths that collide with earlier ones (the same path, or a file where
    /// another file's directory is): `name.ext` becomes `name.1.ext`, then `.2`, and so on.
    /// `skip` marks entries that are not on disk (padding), which take part in nothing.
    public static func resolveCollisions(_ paths: [[[UInt8]]], skip: [Bool]) -> [[[UInt8]]] {
        var result = paths
        var files = Set<[[UInt8]]>()
        var directories = Set<[[UInt8]]>()
        for index in paths.indices where !skip[index] {
            for depth in 1..<max(1, paths[index].count) { directories.insert(Array(paths[index].prefix(depth))) }
        }
        for index in paths.indices where !skip[index] {
            var candidate = paths[index]
            var number = 0
            while files.contains(candidate) || directories.contains(candidate) || clashesWithFile(candidate, files) {
                number += 1
                candidate = paths[index].dropLast() + [numbered(paths[index].last!, number)]
            }
            files.insert(candidate)
            for depth in 1..<max(1, candidate.count) { directories.insert(Array(candidate.prefix(depth))) }
            result[index] = candidate
        }
        return result
    }

    /// Whether a directory of `path` is already a file.
    private static func clashesWithFile(_ path: [[UInt8]], _ files: Set<[[UInt8]]>) -> Bool {
        (1..<max(1, path.count)).contains { files.contains(Array(path.prefix($0))) }
    }

    static func numbered(_ name: [UInt8], _ number: Int) -> [UInt8] {
        let suffix = Array(".\(number)".utf8)
        if let dot = name.lastIndex(of: UInt8(ascii: ".")), dot > 0 {
            return Array(name[..<dot]) + suffix + Array(name[dot...])
        }
        return name + suffix
    }

    /// How a name is shown: UTF-8 where it is UTF-8, each other byte as its Latin-1 character,
    /// so names that differ on disk also differ on screen.
    public static func display(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var out = String.UnicodeScalarView()
        var index = 0
        while index < bytes.count {
            let length = utf8SequenceLength(bytes, at: index)
            if length > 0, let text = String(validating: bytes[index..<index + length], as: UTF8.self) {
                out.append(contentsOf: text.unicodeScalars)
                index += length
            } else {
                out.append(Unicode.Scalar(bytes[index]))
                index += 1
            }
        }
        return String(out)
    }

    /// The length of the UTF-8 sequence its lead byte announces, if the bytes are there.
    private static func utf8SequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let lead = bytes[index]
        let length = lead < 0x80 ? 1 : lead >> 5 == 0b110 ? 2 : lead >> 4 == 0b1110 ? 3 : lead >> 3 == 0b11110 ? 4 : 0
        return index + length <= bytes.count ? length : 0
    }
}
