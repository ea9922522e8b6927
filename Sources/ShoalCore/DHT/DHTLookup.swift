/// An iterative lookup (BEP 5, Kademlia): ask the closest nodes known for the target, learn
/// closer ones from their answers, and go on until the closest `k` have all answered or
/// failed. Pure: the caller sends the queries it is handed and reports what came back.
public struct DHTLookup: Sendable {
    enum State: Sendable { case fresh, asked, answered, failed }

    public let target: NodeID
    public let parallelism: Int
    public let k: Int
    private var nodes: [NodeID: (info: DHTNodeInfo, state: State, token: [UInt8]?)] = [:]
    public private(set) var peers: Set<PeerAddress> = []
    /// A bound on the queries one lookup sends, whatever the answers say.
    public static let maxQueries = 200
    private var sent = 0

    public init(target: NodeID, start: [DHTNodeInfo], parallelism: Int = 4, k: Int = RoutingTable.bucketSize) {
        self.target = target
        self.parallelism = min(8, max(3, parallelism))
        self.k = k
        for node in start { nodes[node.id] = (node, .fresh, nil) }
    }

    private var ranked: [(info: DHTNodeInfo, state: State, token: [UInt8]?)] {
        nodes.values.filter { $0.state != .failed }.sorted { target.isCloser($0.info.id, than: $1.info.id) }
    }

    private var inFlight: Int { nodes.values.filter { $0.state == .asked }.count }

    /// Nodes to query now: the closest not yet asked, keeping `parallelism` queries in flight.
    public mutating func next() -> [DHTNodeInfo] {
        guard sent < Self.maxQueries else { return [] }
        let room = parallelism - inFlight
        guard room > 0 else { return [] }
        let picks = ranked.prefix(k).filter { $0.state == .fresh }.prefix(room).map(\.info)
        for node in picks { nodes[node.id]?.state = .asked }
        sent += picks.count
        return picks
    }

    public mutating func answered(_ id: NodeID, nodes found: [DHTNodeInfo], values: [PeerAddress], token: [UInt8]?) {
        guard nodes[id] != nil else { return }
        nodes[id]?.state = .answered
        nodes[id]?.token = token
        for node in found where nodes[node.id] == nil { nodes[node.id] = (node, .fresh, nil) }
        peers.formUnion(values)
    }

    public mutating func failed(_ id: NodeID) {
        nodes[id]?.state = .failed
    }

    /// Finished: nothing in flight and nothing fresh among the closest `k`.
    public var isDone: Bool {
        inFlight == 0 && (sent >= Self.maxQueries || !ranked.prefix(k).contains { $0.state == .fresh })
    }

    /// The closest nodes that answered, with the tokens they gave (for `announce_peer`).
    public var closestAnswered: [(DHTNodeInfo, [UInt8])] {
        ranked.filter { $0.state == .answered }.prefix(k).compactMap { entry in entry.token.map { (entry.info, $0) } }
    }
}
