/// How a node answers queries (BEP 5, with BEP 32 for IPv6), as a pure function of its tables,
/// its stored peers and its token secrets.
public enum DHTResponder {
    /// `tables`: one routing table per family this node runs in. Nodes come from the families
    /// the asker `want`s, or else from the one it asked over; stored peers only of that one,
    /// since an asker can reach only those.
    public static func respond(to query: KRPCMessage.Query, transactionID: [UInt8], from address: PeerAddress, ownID: NodeID,
                               tables: [DHTFamily: RoutingTable], store: inout DHTPeerStore, tokens: TokenSecrets,
                               now: ContinuousClock.Instant) -> KRPCMessage {
        func reply(_ response: KRPCMessage.Response) -> KRPCMessage {
            KRPCMessage(transactionID: transactionID, body: .response(response))
        }
        let family = DHTFamily(of: address)
        func closest(to target: NodeID, want: [DHTFamily]) -> [DHTNodeInfo] {
            (want.isEmpty ? [family] : want).flatMap { tables[$0]?.closest(to: target, now: now) ?? [] }
        }
        switch query {
        case .ping:
            return reply(.init(id: ownID))
        case .findNode(_, let target, let want):
            return reply(.init(id: ownID, nodes: closest(to: target, want: want)))
        case .getPeers(_, let hash, let want):
            let peers = store.peers(for: hash, family: family, now: now)
            let nodes = peers.isEmpty || !want.isEmpty ? closest(to: NodeID(hash), want: want) : []
            return reply(.init(id: ownID, nodes: nodes, values: peers, token: tokens.token(for: address.host)))
        case .announcePeer(_, let hash, let port, let token, let implied):
            guard tokens.isValid(token, for: address.host) else {
                return KRPCMessage(transactionID: transactionID, body: .error(code: KRPCMessage.protocolError, message: "bad token"))
            }
            store.add(PeerAddress(host: address.host, port: implied ? address.port : port), for: hash, now: now)
            return reply(.init(id: ownID))
        }
    }
}
