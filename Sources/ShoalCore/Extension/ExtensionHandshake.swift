/// The extension protocol's handshake (BEP 10): which extensions a peer speaks and the message
/// ids it wants them sent with, plus a few facts about itself.
public struct ExtensionHandshake: Sendable, Equatable {
    /// Extension name → the id the sender wants for it (0 = it stopped supporting it).
    public var messageIDs: [String: UInt8]
    public var client: String?
    /// The sender's listening port, so a peer that connected to us can be dialled or shared.
    public var listenPort: UInt16?
    /// How many requests it queues before dropping (`reqq`).
    public var requestQueue: Int?
    /// Size of the torrent's info dictionary, when the sender has it (BEP 9).
    public var metadataSize: Int?
    /// Our address as the sender sees it (`yourip`: 4 or 16 bytes).
    public var yourIP: [UInt8]?

    /// The ids Shoal gives its extensions (what peers must use when sending to Shoal).
    public static let utMetadata: UInt8 = 1
    public static let utPex: UInt8 = 2
    /// Metadata is refused beyond this size: a bigger info dictionary is not a real torrent.
    public static let maxMetadataSize = 16 << 20

    public init(messageIDs: [String: UInt8], client: String? = nil, listenPort: UInt16? = nil, requestQueue: Int? = nil,
                metadataSize: Int? = nil, yourIP: [UInt8]? = nil) {
        self.messageIDs = messageIDs
        self.client = client
        self.listenPort = listenPort
        self.requestQueue = requestQueue
        self.metadataSize = metadataSize
        self.yourIP = yourIP
    }

    public var encoded: [UInt8] {
        var m: [[UInt8]: BencodeValue] = [:]
        for (name, id) in messageIDs { m[Array(name.utf8)] = .integer(Int64(id)) }
        var root: [String: BencodeValue] = ["m": .dictionary(m)]
        if let client { root["v"] = .string(client) }
        if let listenPort { root["p"] = .integer(Int64(listenPort)) }
        if let requestQueue { root["reqq"] = .integer(Int64(requestQueue)) }
        if let metadataSize { root["metadata_size"] = .integer(Int64(metadataSize)) }
        if let yourIP { root["yourip"] = .bytes(yourIP) }
        return BencodeEncoder.encode(.dict(root))
    }

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// Lenient where BEP 10 is (unknown keys ignored, odd values dropped), strict where a wrong
    /// value could hurt: ids must fit a byte, sizes must be sane.
    public init(parsing payload: [UInt8]) throws(ParseError) {
        do {
            self = try Self.parse(payload)
        } catch let error as ParseError {
            throw error
        } catch {
            throw ParseError(description: "extension handshake: \(error)")
        }
    }

    // Untyped throws and no closures on purpose: Swift 6.3's optimizer crashes (an ownership
    // verifier error in CopyPropagation) on this body with typed throws.
    private static func parse(_ payload: [UInt8]) throws -> ExtensionHandshake {
        let root: BencodeNode
        do {
            root = try BencodeDecoder(limits: .init(maxDepth: 4, maxInputSize: 64 << 10)).decode(payload)
        } catch {
            throw ParseError(description: "extension handshake: \(error.description)")
        }
        guard root.entries != nil else { throw ParseError(description: "extension handshake is not a dictionary") }
        var ids: [String: UInt8] = [:]
        for entry in root["m"]?.entries ?? [] {
            guard let name = String(validating: entry.key, as: UTF8.self), let id = entry.value.integer, id >= 0, id <= 255 else {
                continue
            }
            ids[name] = UInt8(id)
        }
        var handshake = ExtensionHandshake(messageIDs: ids)
        if let client = root["v"]?.bytes { handshake.client = String(decoding: client.prefix(64), as: UTF8.self) }
        if let port = root["p"]?.integer, port >= 1, port <= 65535 { handshake.listenPort = UInt16(port) }
        if let queue = root["reqq"]?.integer, queue >= 1, queue <= 100_000 { handshake.requestQueue = Int(queue) }
        if let size = root["metadata_size"]?.integer {
            guard size > 0, size <= Int64(Self.maxMetadataSize) else { throw ParseError(description: "metadata_size \(size) is not plausible") }
            handshake.metadataSize = Int(size)
        }
        if let ip = root["yourip"]?.bytes, ip.count == 4 || ip.count == 16 { handshake.yourIP = ip }
        return handshake
    }

    /// The id the peer wants for `name`, if it supports it.
    public func id(of name: String) -> UInt8? {
        guard let id = messageIDs[name], id != 0 else { return nil }
        return id
    }
}
