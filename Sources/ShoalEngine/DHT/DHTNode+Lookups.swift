import ShoalCore

/// Lookups and upkeep: each runs in every family the node has (BEP 32 keeps the IPv4 and IPv6
/// DHTs apart: a lookup in one follows only nodes of that family).
extension DHTNode {
    private func lookup(_ target: NodeID, getPeers hash: InfoHash?, in family: DHTFamily) async -> DHTLookup {
        var lookup = DHTLookup(target: target, start: tables[family]?.closest(to: target, count: 16) ?? [])
        let ownID = self.ownID
        while !lookup.isDone {
            let batch = lookup.next()
            if batch.isEmpty { break }
            let answers = await withTaskGroup(of: (DHTNodeInfo, KRPCMessage.Response?).self) { group in
                for node in batch {
                    let query: KRPCMessage.Query = hash.map { .getPeers(id: ownID, infoHash: $0) } ?? .findNode(id: ownID, target: target)
                    group.addTask { (node, await self.query(query, to: node.address, id: node.id)) }
                }
                var answers: [(DHTNodeInfo, KRPCMessage.Response?)] = []
                for await answer in group { answers.append(answer) }
                return answers
            }
            for (node, response) in answers {
                if let response {
                    lookup.answered(node.id, nodes: response.nodes.filter { $0.family == family }, values: response.values,
                                    token: response.token)
                } else {
                    lookup.failed(node.id)
                }
            }
        }
        return lookup
    }

    /// The same lookup in every family at once.
    private func lookupEverywhere(_ target: NodeID, getPeers hash: InfoHash?) async -> [DHTLookup] {
        await withTaskGroup(of: DHTLookup.self) { group in
            for family in families { group.addTask { await self.lookup(target, getPeers: hash, in: family) } }
            var lookups: [DHTLookup] = []
            for await lookup in group { lookups.append(lookup) }
            return lookups
        }
    }

    /// Peers for a torrent, found by an iterative `get_peers` lookup in every family.
    public func getPeers(_ hash: InfoHash) async -> [PeerAddress] {
        await ensureBootstrapped()
        return Array(await lookupEverywhere(NodeID(hash), getPeers: hash).reduce(into: Set()) { $0.formUnion($1.peers) })
    }

    /// Looks the torrent up, tells the closest nodes we have it (listening on `port`), and
    /// returns the peers the lookup found.
    public func announce(_ hash: InfoHash, port: UInt16) async -> [PeerAddress] {
        await announceCounted(hash, port: port).peers
    }

    /// The same, also saying how many nodes took the announce (in all families).
    public func announceCounted(_ hash: InfoHash, port: UInt16) async -> (peers: [PeerAddress], acceptedBy: Int) {
        await ensureBootstrapped()
        let lookups = await lookupEverywhere(NodeID(hash), getPeers: hash)
        let ownID = self.ownID
        let accepted = await withTaskGroup(of: Bool.self) { group in
            for (node, token) in lookups.flatMap(\.closestAnswered) {
                group.addTask {
                    await self.query(.announcePeer(id: ownID, infoHash: hash, port: port, token: token, impliedPort: false),
                                     to: node.address, id: node.id) != nil
                }
            }
            var accepted = 0
            for await answered in group where answered { accepted += 1 }
            return accepted
        }
        return (Array(lookups.reduce(into: Set()) { $0.formUnion($1.peers) }), accepted)
    }

    /// A peer told us its DHT port (BEP 5 `port` message): a node worth a ping.
    public func ping(_ address: PeerAddress) async {
        _ = await query(.ping(id: ownID), to: address.normalized)
    }

    // MARK: Upkeep

    private func ensureBootstrapped() async {
        for family in families where nodeCount(family) < RoutingTable.bucketSize {
            await bootstrap(family)
        }
    }

    /// Bootstraps every family.
    public func bootstrap() async {
        for family in families { await bootstrap(family) }
    }

    /// Asks the bootstrap nodes of the family and what we know for nodes near our own id, then
    /// refreshes the far buckets. A lookup of our own id only meets nodes on our side of the id
    /// space; without the refresh a group of nodes that joined together can know only each
    /// other, and their lookups for anything elsewhere never leave the group (seen in the
    /// 50-node test: a fifth of the nodes could not find an announced peer).
    public func bootstrap(_ family: DHTFamily) async {
        let ownID = self.ownID
        await withTaskGroup(of: Void.self) { group in
            for address in bootstrapNodes where DHTFamily(of: address) == family {
                group.addTask { _ = await self.query(.findNode(id: ownID, target: ownID), to: address.normalized) }
            }
        }
        _ = await lookup(ownID, getPeers: nil, in: family)
        for bucket in 0..<Self.refreshedBuckets {
            _ = await lookup(ownID.random(sharing: bucket, using: &rng), getPeers: nil, in: family)
        }
    }

    /// The far buckets, which cover most of the id space (bucket `i` holds 1/2^(i+1) of it).
    static let refreshedBuckets = 3

    func maintain() async {
        // A bootstrap that met nobody (the nodes were slow or not up yet) is tried again soon,
        // 5 s doubling up to the maintenance interval, not a whole interval later.
        var emptyRetry = Duration.seconds(5)
        while !Task.isCancelled {
            for family in families where nodeCount(family) < RoutingTable.bucketSize { await bootstrap(family) }
            let now = ContinuousClock.now
            // Questionable nodes are pinged (a few at a time per family): an answer makes them good again.
            let stale = families.flatMap { Array((tables[$0]?.questionable(now: now) ?? []).prefix(8)) }
            let ownID = self.ownID
            await withTaskGroup(of: Void.self) { group in
                for node in stale { group.addTask { _ = await self.query(.ping(id: ownID), to: node.address, id: node.id) } }
            }
            expireStoredPeers(now: now)
            if nodeCount == 0 && !bootstrapNodes.isEmpty {
                try? await Task.sleep(for: min(emptyRetry, maintenanceInterval))
                emptyRetry = emptyRetry * 2
            } else {
                emptyRetry = .seconds(5)
                try? await Task.sleep(for: maintenanceInterval)
            }
        }
    }
}
