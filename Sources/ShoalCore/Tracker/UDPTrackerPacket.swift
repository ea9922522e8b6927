/// BEP 15 UDP tracker packets: requests (client → tracker) and responses (tracker → client),
/// big-endian and fixed-layout. Pure; both the tracker server and the engine's client use it.
public enum UDPTrackerPacket {
    public static let protocolID: UInt64 = 0x417_2710_1980

    public enum Action: UInt32, Sendable {
        case connect = 0, announce, scrape, error
    }

    public struct Announce: Sendable, Equatable {
        public var connectionID: UInt64
        public var transactionID: UInt32
        public var infoHash: InfoHash
        public var peerID: PeerID
        public var downloaded: Int64
        public var left: Int64
        public var uploaded: Int64
        public var event: AnnounceRequest.Event
        public var key: UInt32
        public var numwant: Int32
        public var port: UInt16

        public init(connectionID: UInt64, transactionID: UInt32, request: AnnounceRequest) {
            self.connectionID = connectionID
            self.transactionID = transactionID
            infoHash = request.infoHash
            peerID = request.peerID
            downloaded = request.downloaded
            left = request.left
            uploaded = request.uploaded
            event = request.event
            key = request.key
            numwant = Int32(clamping: request.numwant)
            port = request.port
        }
    }

    public enum Request: Sendable, Equatable {
        case connect(transactionID: UInt32)
        case announce(Announce)
        case scrape(connectionID: UInt64, transactionID: UInt32, hashes: [InfoHash])
    }

    public enum Response: Sendable, Equatable {
        case connect(transactionID: UInt32, connectionID: UInt64)
        case announce(transactionID: UInt32, interval: Int, leechers: Int, seeders: Int, peers: [PeerAddress])
        case scrape(transactionID: UInt32, counts: [ScrapeCounts])
        case error(transactionID: UInt32, message: String)

        public var transactionID: UInt32 {
            switch self {
            case .connect(let id, _), .announce(let id, _, _, _, _), .scrape(let id, _), .error(let id, _): return id
            }
        }

    }

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    // MARK: Requests

    public static func encode(_ request: Request) -> [UInt8] {
        var out: [UInt8] = []
        switch request {
        case .connect(let transaction):
            out.appendBigEndian(protocolID)
            out.appendBigEndian(Action.connect.rawValue)
            out.appendBigEndian(transaction)
        case .announce(let a):
            out.appendBigEndian(a.connectionID)
            out.appendBigEndian(Action.announce.rawValue)
            out.appendBigEndian(a.transactionID)
            out += a.infoHash.bytes + a.peerID.bytes
            out.appendBigEndian(UInt64(bitPattern: a.downloaded))
            out.appendBigEndian(UInt64(bitPattern: a.left))
            out.appendBigEndian(UInt64(bitPattern: a.uploaded))
            out.appendBigEndian(a.event.udpValue)
            out.appendBigEndian(UInt32(0))  // IP: the sender's
            out.appendBigEndian(a.key)
            out.appendBigEndian(UInt32(bitPattern: a.numwant))
            out.appendBigEndian(a.port)
        case .scrape(let connection, let transaction, let hashes):
            out.appendBigEndian(connection)
            out.appendBigEndian(Action.scrape.rawValue)
            out.appendBigEndian(transaction)
            for hash in hashes { out += hash.bytes }
        }
        return out
    }

    /// Parses what a client sent; anything of the wrong size or action is refused.
    public static func parseRequest(_ bytes: [UInt8]) throws(ParseError) -> Request {
        guard bytes.count >= 16 else { throw ParseError(description: "packet of \(bytes.count) bytes is too short") }
        let connection = bytes.bigEndianUInt64(at: 0)
        let action = bytes.bigEndianUInt32(at: 8)
        let transaction = bytes.bigEndianUInt32(at: 12)
        switch Action(rawValue: action) {
        case .connect?:
            guard bytes.count == 16, connection == protocolID else { throw ParseError(description: "bad connect request") }
            return .connect(transactionID: transaction)
        case .announce?:
            guard bytes.count >= 98 else { throw ParseError(description: "announce of \(bytes.count) bytes (need 98)") }
            let events: [UInt32: AnnounceRequest.Event] = [0: .none, 1: .completed, 2: .started, 3: .stopped]
            guard let event = events[bytes.bigEndianUInt32(at: 80)] else { throw ParseError(description: "bad event") }
            let left = Int64(bitPattern: bytes.bigEndianUInt64(at: 64))
            guard left >= 0 else { throw ParseError(description: "negative left") }
            var request = AnnounceRequest(infoHash: InfoHash(bytes: bytes[16..<36])!, peerID: PeerID(bytes: bytes[36..<56])!,
                                          port: bytes.bigEndianUInt16(at: 96),
                                          uploaded: Int64(bitPattern: bytes.bigEndianUInt64(at: 72)),
                                          downloaded: Int64(bitPattern: bytes.bigEndianUInt64(at: 56)), left: left, event: event,
                                          key: bytes.bigEndianUInt32(at: 88))
            request.numwant = Int(Int32(bitPattern: bytes.bigEndianUInt32(at: 92)))
            return .announce(Announce(connectionID: connection, transactionID: transaction, request: request))
        case .scrape?:
            let body = bytes.count - 16
            guard body > 0, body % 20 == 0, body / 20 <= 74 else { throw ParseError(description: "bad scrape length") }
            let hashes = stride(from: 16, to: bytes.count, by: 20).map { InfoHash(bytes: bytes[$0..<$0 + 20])! }
            return .scrape(connectionID: connection, transactionID: transaction, hashes: hashes)
        case .error?, nil:
            throw ParseError(description: "unknown action \(action)")
        }
    }

    // MARK: Responses

    public static func encode(_ response: Response) -> [UInt8] { response.encoded }

    /// `ipv6`: the request went over IPv6, so announce replies carry 18-byte peers (BEP 15).
    public static func parseResponse(_ bytes: [UInt8], ipv6: Bool = false) throws(ParseError) -> Response {
        guard bytes.count >= 8 else { throw ParseError(description: "response of \(bytes.count) bytes is too short") }
        let transaction = bytes.bigEndianUInt32(at: 4)
        switch Action(rawValue: bytes.bigEndianUInt32(at: 0)) {
        case .connect?:
            guard bytes.count >= 16 else { throw ParseError(description: "short connect response") }
            return .connect(transactionID: transaction, connectionID: bytes.bigEndianUInt64(at: 8))
        case .announce?:
            let entry = ipv6 ? 18 : 6
            guard bytes.count >= 20, (bytes.count - 20) % entry == 0 else { throw ParseError(description: "bad announce response") }
            let peers = Array(bytes[20...])
            return .announce(transactionID: transaction, interval: Int(bytes.bigEndianUInt32(at: 8)),
                             leechers: Int(bytes.bigEndianUInt32(at: 12)), seeders: Int(bytes.bigEndianUInt32(at: 16)),
                             peers: ipv6 ? PeerAddress.parseCompact6(peers) : PeerAddress.parseCompact(peers))
        case .scrape?:
            guard (bytes.count - 8) % 12 == 0 else { throw ParseError(description: "bad scrape response") }
            let counts = stride(from: 8, to: bytes.count, by: 12).map {
                ScrapeCounts(seeders: Int(bytes.bigEndianUInt32(at: $0)), completed: Int(bytes.bigEndianUInt32(at: $0 + 4)),
                             leechers: Int(bytes.bigEndianUInt32(at: $0 + 8)))
            }
            return .scrape(transactionID: transaction, counts: counts)
        case .error?:
            return .error(transactionID: transaction, message: String(decoding: bytes[8...], as: UTF8.self))
        case nil:
            throw ParseError(description: "unknown action")
        }
    }
}

extension UDPTrackerPacket.Response {
    var encoded: [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .connect(let transaction, let connection):
            out.appendBigEndian(UDPTrackerPacket.Action.connect.rawValue)
            out.appendBigEndian(transaction)
            out.appendBigEndian(connection)
        case .announce(let transaction, let interval, let leechers, let seeders, let peers):
            out.appendBigEndian(UDPTrackerPacket.Action.announce.rawValue)
            out.appendBigEndian(transaction)
            out.appendBigEndian(UInt32(clamping: interval))
            out.appendBigEndian(UInt32(clamping: leechers))
            out.appendBigEndian(UInt32(clamping: seeders))
            // 6-byte entries to an IPv4 asker, 18-byte ones to an IPv6 asker (BEP 15): the
            // server hands each only its own family.
            for peer in peers { out += peer.compact ?? peer.compact6 ?? [] }
        case .scrape(let transaction, let counts):
            out.appendBigEndian(UDPTrackerPacket.Action.scrape.rawValue)
            out.appendBigEndian(transaction)
            for count in counts {
                out.appendBigEndian(UInt32(clamping: count.seeders))
                out.appendBigEndian(UInt32(clamping: count.completed))
                out.appendBigEndian(UInt32(clamping: count.leechers))
            }
        case .error(let transaction, let message):
            out.appendBigEndian(UDPTrackerPacket.Action.error.rawValue)
            out.appendBigEndian(transaction)
            out += Array(message.utf8)
        }
        return out
    }
}
