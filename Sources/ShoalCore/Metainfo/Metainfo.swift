/// A parsed .torrent file (BEP 3, with BEP 12 tiers, BEP 27 private flag and BEP 52 v2 halves).
public struct Metainfo: Sendable {
    public internal(set) var info: InfoDictionary
    /// What peers, trackers and the DHT know the torrent by: SHA-1 of `rawInfo`, or for a
    /// v2-only torrent its SHA-256 cut to 20 bytes (BEP 52).
    public let infoHash: InfoHash
    /// SHA-256 of `rawInfo` when the torrent has a v2 half (v2-only or hybrid).
    public let infoHashV2: [UInt8]?
    /// The `piece layers` dictionary as the file holds it (outside `info`: kept to write the
    /// torrent out again).
    public let rawPieceLayers: [UInt8]?
    /// A v2-only torrent's first file larger than a piece whose layer is missing or does not
    /// hash to its root: its pieces cannot be checked until peers send the hashes (a magnet's
    /// fetch asks for them, and so does a .torrent file's add, as libtorrent's does).
    public internal(set) var missingPieceLayer: String?
    /// The `info` dictionary exactly as it appeared in the file (served to peers by BEP 9).
    public let rawInfo: [UInt8]
    /// Trackers by tier (BEP 12); a lone `announce` becomes one tier of one tracker.
    public let trackerTiers: [[String]]
    /// Seconds since 1970.
    public let creationDate: Int64?
    public let comment: String?
    public let createdBy: String?
    /// Web seeds (BEP 19), kept for later.
    public let urlList: [String]

    public init(bytes: [UInt8]) throws(MetainfoError) {
        let root: BencodeNode
        do {
            // Bytes after the root dictionary (a newline an editor added, junk a site appended)
            // are ignored, as libtorrent ignores them: the torrent is whole without them.
            root = try BencodeDecoder().decodePrefix(bytes).node
        } catch {
            throw MetainfoError(error)
        }
        guard root.entries != nil else {
            throw MetainfoError("a torrent must be a dictionary, found a \(root.kindName)", at: root.range.lowerBound)
        }
        guard let infoNode = root["info"] else {
            throw MetainfoError("missing 'info' dictionary", at: root.range.lowerBound)
        }
        let raw = Array(bytes[infoNode.range])
        let v1Hash = InfoHash(hashingInfo: raw)
        self.info = try InfoDictionary(node: infoNode, fallbackName: v1Hash.hex)
        self.rawInfo = raw
        self.infoHashV2 = info.v2 != nil ? MerkleTree.hash(raw) : nil
        self.infoHash = info.v2?.isOnly == true ? InfoHash(bytes: infoHashV2!.prefix(20))! : v1Hash
        self.rawPieceLayers = root["piece layers"].map { Array(bytes[$0.range]) }
        var layers: [[UInt8]: [[UInt8]]]?
        if let v2 = info.v2 { layers = try PieceLayers.parse(root["piece layers"], files: v2.files, pieceLength: info.pieceLength) }
        self.trackerTiers = Self.tiers(root)
        self.creationDate = root["creation date"]?.integer
        self.comment = root["comment.utf-8"]?.text ?? root["comment"]?.text
        self.createdBy = root["created by"]?.text
        switch root["url-list"]?.kind {
        case .bytes(let url)?: self.urlList = [String(decoding: url, as: UTF8.self)].filter { !$0.isEmpty }
        case .list(let urls)?: self.urlList = urls.compactMap(\.text).filter { !$0.isEmpty }
        default: self.urlList = []
        }
        if let layers { attach(layers) }
    }

    /// Builds a Metainfo from an info dictionary fetched from peers (BEP 9) plus a magnet's trackers.
    public init(rawInfo: [UInt8], trackerTiers: [[String]]) throws(MetainfoError) {
        let node: BencodeNode
        do {
            node = try BencodeDecoder.decode(rawInfo)
        } catch {
            throw MetainfoError(error)
        }
        let v1Hash = InfoHash(hashingInfo: rawInfo)
        self.info = try InfoDictionary(node: node, fallbackName: v1Hash.hex)
        self.rawInfo = rawInfo
        self.infoHashV2 = info.v2 != nil ? MerkleTree.hash(rawInfo) : nil
        self.infoHash = info.v2?.isOnly == true ? InfoHash(bytes: infoHashV2!.prefix(20))! : v1Hash
        self.rawPieceLayers = nil
        self.trackerTiers = trackerTiers
        self.creationDate = nil
        self.comment = nil
        self.createdBy = nil
        self.urlList = []
        // Metadata from peers carries no piece layers: a v2-only torrent's larger files wait for them.
        if info.v2?.isOnly == true { attach([:]) }
    }

    /// BEP 12: `announce-list` wins over `announce` when present and non-empty.
    /// Malformed entries are skipped rather than fatal: a bad tracker URL should not make
    /// the content unreachable.
    private static func tiers(_ root: BencodeNode) -> [[String]] {
        var tiers: [[String]] = []
        for tierNode in root["announce-list"]?.list ?? [] {
            let urls = (tierNode.list ?? []).compactMap { $0.bytes.flatMap { String(validating: $0, as: UTF8.self) } }
                .filter { !$0.isEmpty }
            var unique: [String] = []
            for url in urls where !unique.contains(url) { unique.append(url) }
            if !unique.isEmpty { tiers.append(unique) }
        }
        if tiers.isEmpty, let announce = root["announce"]?.bytes.flatMap({ String(validating: $0, as: UTF8.self) }),
            !announce.isEmpty
        {
            tiers = [[announce]]
        }
        return tiers
    }
}

extension BencodeNode {
    var text: String? { bytes.flatMap { String(validating: $0, as: UTF8.self) } }
}

extension Metainfo {
    /// A .torrent file for this metainfo: trackers and descriptive fields re-encoded, the `info`
    /// dictionary copied byte for byte so the info-hash cannot change.
    public var fileBytes: [UInt8] { fileBytes(pieceLayers: rawPieceLayers) }

    /// The same, with `pieceLayers` (an encoded `piece layers` dictionary, or none) after the info.
    func fileBytes(pieceLayers: [UInt8]?) -> [UInt8] {
        var root = MetainfoBuilder.outerFields(trackerTiers: trackerTiers, comment: comment, createdBy: createdBy,
                                               creationDate: creationDate)
        if !urlList.isEmpty { root["url-list"] = .list(urlList.map { .string($0) }) }
        // Every key above sorts before "info", so the raw info goes next, as canonical order
        // wants, and "piece layers" after it.
        var bytes = BencodeEncoder.encode(.dict(root))
        bytes.removeLast()
        bytes += Array("4:info".utf8) + rawInfo
        if let pieceLayers { bytes += Array("12:piece layers".utf8) + pieceLayers }
        return bytes + [UInt8(ascii: "e")]
    }
}
