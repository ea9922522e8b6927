/// The DHT routing table (BEP 5): nodes kept in k-buckets by how many leading bits they share
/// with our id. This is the table fully split around our id: bucket `i` holds nodes whose id
/// shares exactly `i` bits with ours, so buckets near our id are as fine as the far ones are
/// coarse. At most `bucketSize` nodes a bucket; long-lived good nodes are kept over newcomers.
public struct RoutingTable: Sendable {
    public struct Entry: Sendable {
        public var node: DHTNodeInfo
        public var lastSeen: ContinuousClock.Instant
        public var failures: Int
    }

    public enum Standing: Sendable, Equatable { case good, questionable, bad }

    public let ownID: NodeID
    public static let bucketSize = 8
    /// A node heard from within this long is good (BEP 5: 15 minutes).
    public static let goodFor: Duration = .seconds(15 * 60)
    private(set) var buckets: [[Entry]] = Array(repeating: [], count: 160)

    public init(ownID: NodeID) {
        self.ownID = ownID
    }

    public var count: Int { buckets.reduce(0) { $0 + $1.count } }
    public var allNodes: [DHTNodeInfo] { buckets.flatMap { $0.map(\.node) } }

    func bucketIndex(_ id: NodeID) -> Int { min(159, ownID.commonPrefixLength(with: id)) }

    public func standing(_ entry: Entry, now: ContinuousClock.Instant) -> Standing {
        if entry.failures >= 2 { return .bad }
        return now - entry.lastSeen <= Self.goodFor ? .good : .questionable
    }

    /// A node answered us or queried us. Returns false when there was no room for it.
    @discardableResult
    public mutating func heard(from node: DHTNodeInfo, now: ContinuousClock.Instant) -> Bool {
        guard node.id != ownID, node.address.port > 0 else { return false }
        let index = bucketIndex(node.id)
        if let slot = buckets[index].firstIndex(where: { $0.node.id == node.id }) {
            buckets[index][slot].lastSeen = now
            buckets[index][slot].failures = 0
            buckets[index][slot].node.address = node.address
            return true
        }
        let entry = Entry(node: node, lastSeen: now, failures: 0)
        if buckets[index].count < Self.bucketSize {
            buckets[index].append(entry)
            return true
        }
        // Full: a bad node makes room; otherwise the old nodes stay (they have proven to last).
        if let bad = buckets[index].firstIndex(where: { standing($0, now: now) == .bad }) {
            buckets[index][bad] = entry
            return true
        }
        return false
    }

    /// A query to the node timed out; after repeated failures it is bad, then dropped.
    public mutating func failed(_ id: NodeID) {
        let index = bucketIndex(id)
        guard let slot = buckets[index].firstIndex(where: { $0.node.id == id }) else { return }
        buckets[index][slot].failures += 1
        if buckets[index][slot].failures >= 4 { buckets[index].remove(at: slot) }
    }

    /// The `count` known nodes closest to `target`, bad ones left out.
    public func closest(to target: NodeID, count: Int = RoutingTable.bucketSize, now: ContinuousClock.Instant = .now) -> [DHTNodeInfo] {
        buckets.joined().filter { standing($0, now: now) != .bad }.map(\.node)
            .sorted { target.isCloser($0.id, than: $1.id) }.prefix(count).map { $0 }
    }

    /// Nodes not heard from for a while, to ping before they are trusted again.
    public func questionable(now: ContinuousClock.Instant) -> [DHTNodeInfo] {
        buckets.joined().filter { standing($0, now: now) == .questionable }.map(\.node)
    }
}
