/// KRPC, the DHT's message format (BEP 5): bencoded dictionaries over UDP, a query, a response
/// or an error, matched by transaction id. With BEP 32's IPv6 additions: `nodes6`, 18-byte
/// `values`, and the `want` argument.
public struct KRPCMessage: Sendable, Equatable {
    public enum Query: Sendable, Equatable {
        case ping(id: NodeID)
        /// `want`: the families whose nodes the asker wants (empty: the family it asked over).
        case findNode(id: NodeID, target: NodeID, want: [DHTFamily] = [])
        case getPeers(id: NodeID, infoHash: InfoHash, want: [DHTFamily] = [])
        /// `impliedPort`: use the UDP source port instead of `port` (for peers behind NAT).
        case announcePeer(id: NodeID, infoHash: InfoHash, port: UInt16, token: [UInt8], impliedPort: Bool)

        public var senderID: NodeID {
            switch self {
            case .ping(let id), .findNode(let id, _, _), .getPeers(let id, _, _), .announcePeer(let id, _, _, _, _): return id
            }
        }
    }

    public struct Response: Sendable, Equatable {
        public var id: NodeID
        public var nodes: [DHTNodeInfo]
        public var values: [PeerAddress]
        public var token: [UInt8]?

        public init(id: NodeID, nodes: [DHTNodeInfo] = [], values: [PeerAddress] = [], token: [UInt8]? = nil) {
            self.id = id
            self.nodes = nodes
            self.values = values
            self.token = token
        }
    }

    public enum Body: Sendable, Equatable {
        case query(Query)
        case response(Response)
        case error(code: Int, message: String)
    }

    public var transactionID: [UInt8]
    public var body: Body

    public init(transactionID: [UInt8], body: Body) {
        self.transactionID = transactionID
        self.body = body
    }

    public static let genericError = 201, serverError = 202, protocolError = 203, methodUnknown = 204

    public var encoded: [UInt8] {
        var root: [String: BencodeValue] = ["t": .bytes(transactionID)]
        switch body {
        case .query(let query):
            root["y"] = .string("q")
            var arguments: [String: BencodeValue] = ["id": .bytes(query.senderID.bytes)]
            switch query {
            case .ping: root["q"] = .string("ping")
            case .findNode(_, let target, let want):
                root["q"] = .string("find_node")
                arguments["target"] = .bytes(target.bytes)
                if !want.isEmpty { arguments["want"] = .list(want.sorted().map { .string($0.rawValue) }) }
            case .getPeers(_, let hash, let want):
                root["q"] = .string("get_peers")
                arguments["info_hash"] = .bytes(hash.bytes)
                if !want.isEmpty { arguments["want"] = .list(want.sorted().map { .string($0.rawValue) }) }
            case .announcePeer(_, let hash, let port, let token, let implied):
                root["q"] = .string("announce_peer")
                arguments["info_hash"] = .bytes(hash.bytes)
                arguments["port"] = .integer(Int64(port))
                arguments["token"] = .bytes(token)
                if implied { arguments["implied_port"] = .integer(1) }
            }
            root["a"] = .dict(arguments)
        case .response(let response):
            root["y"] = .string("r")
            var values: [String: BencodeValue] = ["id": .bytes(response.id.bytes)]
            let nodes = response.nodes.compactMap(\.compact), nodes6 = response.nodes.compactMap(\.compact6)
            if !nodes.isEmpty { values["nodes"] = .bytes(nodes.flatMap { $0 }) }
            if !nodes6.isEmpty { values["nodes6"] = .bytes(nodes6.flatMap { $0 }) }
            if !response.values.isEmpty {
                values["values"] = .list(response.values.compactMap { $0.isIPv6 ? $0.compact6 : $0.compact }.map { .bytes($0) })
            }
            if let token = response.token { values["token"] = .bytes(token) }
            root["r"] = .dict(values)
        case .error(let code, let message):
            root["y"] = .string("e")
            root["e"] = .list([.integer(Int64(code)), .string(message)])
        }
        return BencodeEncoder.encode(.dict(root))
    }

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The transaction id, when the message had one: a malformed query gets an error reply.
        public let transactionID: [UInt8]?
        public let code: Int
        public let description: String
    }

    public init(parsing datagram: [UInt8]) throws(ParseError) {
        let root: BencodeNode
        do {
            root = try BencodeDecoder(limits: .init(maxDepth: 4, maxInputSize: 8 << 10)).decode(datagram)
        } catch {
            throw ParseError(transactionID: nil, code: Self.protocolError, description: "not bencode: \(error.description)")
        }
        guard let transaction = root["t"]?.bytes, transaction.count <= 16 else {
            throw ParseError(transactionID: nil, code: Self.protocolError, description: "no transaction id")
        }
        func fail(_ why: String, code: Int = Self.protocolError) -> ParseError {
            ParseError(transactionID: transaction, code: code, description: why)
        }
        func id(_ node: BencodeNode?, _ key: String) throws(ParseError) -> NodeID {
            guard let bytes = node?[key]?.bytes, let id = NodeID(bytes: bytes) else { throw fail("'\(key)' must be 20 bytes") }
            return id
        }
        transactionID = transaction
        switch root["y"]?.bytes.map({ String(decoding: $0, as: UTF8.self) }) {
        case "q":
            guard let name = root["q"]?.bytes.map({ String(decoding: $0, as: UTF8.self) }) else { throw fail("query without 'q'") }
            let arguments = root["a"]
            guard arguments?.entries != nil else { throw fail("query without arguments") }
            let sender = try id(arguments, "id")
            // Unknown families are ignored, as BEP 32 asks; at most the two known come back.
            let want = Set((arguments?["want"]?.list ?? []).prefix(8).compactMap { $0.bytes.flatMap { DHTFamily(rawValue: String(decoding: $0, as: UTF8.self)) } })
                .sorted()
            switch name {
            case "ping": body = .query(.ping(id: sender))
            case "find_node": body = .query(.findNode(id: sender, target: try id(arguments, "target"), want: want))
            case "get_peers":
                body = .query(.getPeers(id: sender, infoHash: InfoHash(bytes: try id(arguments, "info_hash").bytes)!, want: want))
            case "announce_peer":
                let hash = InfoHash(bytes: try id(arguments, "info_hash").bytes)!
                guard let token = arguments?["token"]?.bytes, token.count <= 64 else { throw fail("announce_peer without a token") }
                let implied = (arguments?["implied_port"]?.integer ?? 0) != 0
                let port = arguments?["port"]?.integer ?? 0
                guard implied || (1...65535).contains(port) else { throw fail("announce_peer with a bad port") }
                body = .query(.announcePeer(id: sender, infoHash: hash, port: UInt16(clamping: max(0, min(port, 65535))), token: token,
                                            impliedPort: implied))
            default: throw fail("unknown method '\(name.prefix(20))'", code: Self.methodUnknown)
            }
        case "r":
            let values = root["r"]
            guard values?.entries != nil else { throw fail("response without 'r'") }
            var response = Response(id: try id(values, "id"))
            if let nodes = values?["nodes"]?.bytes {
                guard let parsed = DHTNodeInfo.parseCompact(nodes) else { throw fail("'nodes' of \(nodes.count) bytes") }
                response.nodes = parsed
            }
            if let nodes6 = values?["nodes6"]?.bytes {
                guard let parsed = DHTNodeInfo.parseCompact6(nodes6) else { throw fail("'nodes6' of \(nodes6.count) bytes") }
                response.nodes += parsed
            }
            for value in values?["values"]?.list ?? [] {
                guard let bytes = value.bytes else { continue }
                if bytes.count == 6 { response.values += PeerAddress.parseCompact(bytes) }
                if bytes.count == 18 { response.values += PeerAddress.parseCompact6(bytes) }
            }
            response.token = values?["token"]?.bytes.flatMap { $0.count <= 64 ? $0 : nil }
            body = .response(response)
        case "e":
            guard let list = root["e"]?.list, list.count >= 2, let code = list[0].integer, let message = list[1].bytes else {
                throw fail("malformed error")
            }
            body = .error(code: Int(clamping: code), message: String(decoding: message.prefix(200), as: UTF8.self))
        default:
            throw fail("unknown message type")
        }
    }
}
