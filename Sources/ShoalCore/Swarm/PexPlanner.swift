/// The peer exchange messages (BEP 11) a torrent sends now: each peer that speaks `ut_pex`
/// gets, at most once per interval, the connected peers it was not yet told of and those gone
/// since, at most `PexMessage.maxPeers` of each, never itself. Pure: the torrent hands it its
/// peers as they are and the time, and sends what it returns.
public enum PexPlanner {
    public struct Peer: Sendable {
        public let key: Int
        /// Where others can dial it (nil: it came to us and named no listening port).
        public let address: PeerAddress?
        /// Its id for `ut_pex` (nil: it does not speak it).
        public let pexID: UInt8?
        public let lastSent: ContinuousClock.Instant?
        /// The addresses our messages so far have told it of.
        public let told: Set<PeerAddress>
        public let isSeed: Bool
        public let incoming: Bool

        public init(key: Int, address: PeerAddress?, pexID: UInt8?, lastSent: ContinuousClock.Instant?, told: Set<PeerAddress>,
                    isSeed: Bool, incoming: Bool) {
            self.key = key
            self.address = address
            self.pexID = pexID
            self.lastSent = lastSent
            self.told = told
            self.isSeed = isSeed
            self.incoming = incoming
        }
    }

    public struct Send: Sendable, Equatable {
        public let key: Int
        /// The message, in the peer's id for `ut_pex`.
        public let message: PeerMessage
        /// What it has been told of once this is sent.
        public let told: Set<PeerAddress>
    }

    /// Whether a peer may be sent a message now: it speaks `ut_pex` and its last was an
    /// interval ago (asked of every peer each second, before anything is built).
    public static func due(pexID: UInt8?, lastSent: ContinuousClock.Instant?, now: ContinuousClock.Instant, interval: Duration) -> Bool {
        pexID != nil && (lastSent.map { now - $0 >= interval } ?? true)
    }

    public static func sends(_ peers: [Peer], now: ContinuousClock.Instant, interval: Duration) -> [Send] {
        // One entry per address (two connections from one peer are one address to share).
        var connected: [PeerAddress: Peer] = [:]
        for peer in peers {
            if let address = peer.address, connected[address] == nil { connected[address] = peer }
        }
        var sends: [Send] = []
        for peer in peers where due(pexID: peer.pexID, lastSent: peer.lastSent, now: now, interval: interval) {
            guard let id = peer.pexID else { continue }
            var others = Set(connected.keys)
            if let own = peer.address { others.remove(own) }
            let added = Array(others.subtracting(peer.told).sorted().prefix(PexMessage.maxPeers))
            let dropped = Array(peer.told.subtracting(others).sorted().prefix(PexMessage.maxPeers))
            guard !added.isEmpty || !dropped.isEmpty else { continue }
            let flags = added.map { address -> UInt8 in
                guard let other = connected[address] else { return 0 }
                return (other.isSeed ? PexMessage.seedFlag : 0) | (other.incoming ? 0 : PexMessage.reachableFlag)
            }
            let message = PexMessage(added: added, addedFlags: flags, dropped: dropped)
            sends.append(Send(key: peer.key, message: .extended(id: id, payload: message.encoded),
                              told: peer.told.union(added).subtracting(dropped)))
        }
        return sends
    }
}
