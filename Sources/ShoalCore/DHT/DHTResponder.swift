/// How a node answers queries (BEP 5), as a pure function of its table, its stored peers and
/// its token secrets.
public enum DHTResponder {
    public static func respond(to query: KRPCMessage.Query, transactionID: [UInt8], from address: PeerAddress, ownID: NodeID,
                               table: RoutingTable, store: inout DHTPeerStore, tokens: TokenSecrets,
                               now: ContinuousClock.Instant) -> KRPCMessage {
        func reply(_ response: KRPCMessage.Response) -> KRPCMessage {
            KRPCMessage(transactionID: transactionID, body: .response(response))
        }
        switch query {
        case .ping:
            return reply(.init(id: ownID))
        case .findNode(_, let target):
            return reply(.init(id: ownID, nodes: table.closest(to: target, now: now)))
        case .getPeers(_, let hash):
            let peers = store.peers(for: hash, now: now)
            let nodes = peers.isEmpty ? table.closest(to: NodeID(hash), now: now) : []
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
