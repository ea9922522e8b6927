import ShoalCore

/// The torrent's view of one connected peer: the four BEP 3 state bits plus what it needs to
/// rank and police the peer.
struct PeerRecord {
    let peerID: PeerID
    let address: PeerAddress
    let incoming: Bool
    let link: PeerLink
    var amChoking = true
    var amInterested = false
    var peerChoking = true
    var peerInterested = false
    /// A bitfield is only allowed as the first message.
    var sawFirstMessage = false
    var downMeter: RateMeter
    var upMeter: RateMeter
    var uploadedSampled: Int64 = 0
    var lastBlockAt: ContinuousClock.Instant
    var isSnubbed = false
    /// Requests received while we choke it: a few are normal (in flight when we choked), a flood is not.
    var requestsWhileChoked = 0
    /// Dropped: whatever it still sends before the socket closes is ignored.
    var closing = false

    init(peerID: PeerID, address: PeerAddress, incoming: Bool, link: PeerLink, now: ContinuousClock.Instant) {
        self.peerID = peerID
        self.address = address
        self.incoming = incoming
        self.link = link
        self.downMeter = RateMeter(origin: now)
        self.upMeter = RateMeter(origin: now)
        self.lastBlockAt = now
    }
}

/// What the torrent knows about an address it could dial.
struct DialState {
    var failures = 0
    var nextTry: ContinuousClock.Instant
    var connected = false
    var dialing = false
    /// The address turned out to be ourselves (our own listener, via the tracker).
    var isSelf = false
}
