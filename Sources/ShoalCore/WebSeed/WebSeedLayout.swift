/// Where a torrent's bytes are on one web seed (BEP 19, "GetRight style"): each file at the
/// server's URL for it, so a byte range of the torrent is one ranged GET per file it crosses.
///
/// A single-file torrent's URL is the file itself, or, ending in `/`, a directory holding a
/// file of the torrent's name; a multi-file torrent's files are below `<url>/<name>/`, as
/// libtorrent and Transmission read it. Paths are the torrent's own bytes (`path.utf-8` before
/// `path`), percent-encoded per component: the server holds the names the torrent was made
/// from, not the sanitized names we write to disk.
public struct WebSeedLayout: Sendable {
    /// One file as the server holds it.
    public struct File: Sendable, Equatable {
        /// nil for padding (BEP 47): zeros that no server holds.
        public let url: String?
        public let offset: Int64
        public let length: Int64
    }

    /// One GET (or zeros) that carries part of a range: `length` bytes from `fileOffset` of
    /// the file at `url`, landing at `torrentOffset`.
    public struct Part: Sendable, Equatable {
        public let url: String?
        public let fileOffset: Int64
        public let length: Int
        public let torrentOffset: Int64
        /// The whole file's size: a server that ignores `Range` answers with all of it.
        public let fileLength: Int64

        public init(url: String?, fileOffset: Int64, length: Int, torrentOffset: Int64, fileLength: Int64) {
            self.url = url
            self.fileOffset = fileOffset
            self.length = length
            self.torrentOffset = torrentOffset
            self.fileLength = fileLength
        }
    }

    public let baseURL: String
    public let files: [File]

    public init(baseURL: String, info: InfoDictionary, rawInfo: [UInt8]) {
        self.baseURL = baseURL
        let raw = Self.rawNames(rawInfo)
        let name = PercentEncoding.encode(raw?.name ?? Array(info.name.utf8))
        if info.isSingleFile {
            let url = baseURL.hasSuffix("/") ? baseURL + name : baseURL
            files = [File(url: url, offset: 0, length: info.totalLength)]
            return
        }
        let directory = (baseURL.hasSuffix("/") ? baseURL : baseURL + "/") + name + "/"
        files = info.files.enumerated().map { index, file in
            guard !file.isVirtual else { return File(url: nil, offset: file.offset, length: file.length) }
            let components = raw.flatMap { index < $0.paths.count && !$0.paths[index].isEmpty ? $0.paths[index] : nil } ?? file.diskPath
            return File(url: directory + components.map { PercentEncoding.encode($0) }.joined(separator: "/"),
                        offset: file.offset, length: file.length)
        }
    }

    /// The parts that carry `range` of the torrent, in order; empty files are skipped.
    public func parts(_ range: Range<Int64>) -> [Part] {
        var out: [Part] = []
        // The first file that ends after the range starts.
        var low = 0, high = files.count
        while low < high {
            let mid = (low + high) / 2
            if files[mid].offset + files[mid].length <= range.lowerBound { low = mid + 1 } else { high = mid }
        }
        for file in files[low...] {
            guard file.offset < range.upperBound else { break }
            let start = max(range.lowerBound, file.offset), end = min(range.upperBound, file.offset + file.length)
            guard start < end else { continue }
            out.append(Part(url: file.url, fileOffset: start - file.offset, length: Int(end - start), torrentOffset: start,
                            fileLength: file.length))
        }
        return out
    }

    /// The torrent's name and each file's path as its bytes say them (nil when `rawInfo` does
    /// not parse, which a loaded torrent's always does).
    static func rawNames(_ rawInfo: [UInt8]) -> (name: [UInt8], paths: [[[UInt8]]])? {
        guard let info = try? BencodeDecoder.decode(rawInfo), let name = (info["name.utf-8"] ?? info["name"])?.bytes else { return nil }
        let paths = (info["files"]?.list ?? []).map { file in
            ((file["path.utf-8"] ?? file["path"])?.list ?? []).compactMap(\.bytes)
        }
        return (name, paths)
    }
}
