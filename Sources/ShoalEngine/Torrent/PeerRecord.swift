import ShoalCore

/// The torrent's view of one connected peer: the four BEP 3 state bits plus what it needs to
/// rank and police the peer. A class: the actor changes it in place, where a struct was
/// copied out of the dictionary and back for every message (a dozen retains and releases each).
final class PeerRecord {
    let peerID: PeerID
    let address: PeerAddress
    let incoming: Bool
    let link: PeerLink
    /// The protocol's rules for what it sends, and its state bits (see `PeerConduct`).
    var conduct: PeerConduct
    var amChoking: Bool { conduct.amChoking }
    var amInterested = false
    var peerChoking: Bool { conduct.peerChoking }
    var peerInterested: Bool { conduct.peerInterested }
    var supportsFast: Bool { conduct.supportsFast }
    var downMeter: RateMeter
    var upMeter: RateMeter
    var uploadedSampled: Int64 = 0
    /// The last moment either side was interested (see `PeerSlots`).
    var usefulAt: ContinuousClock.Instant
    var isSnubbed: Bool { conduct.isSnubbed }
    /// Dropped: whatever it still sends before the socket closes is ignored.
    var closing = false
    /// Why we dropped it: counted and logged when the connection ends.
    var closeReason: CloseReason?
    /// Its extension handshake (BEP 10).
    var extensions: ExtensionHandshake? { conduct.extensions }
    /// Pieces it lets us request while it chokes us (BEP 6 allowed fast).
    var allowedFast: Set<Int> = []
    /// Pieces it turned down while unchoking us (BEP 6 reject; a seed declines what others can
    /// give us), not asked of it again until `refusedSince` + `refusalMemory`, so that others
    /// are asked first (a seed serves a block it declined when asked for it again).
    var refused: Set<Int> = []
    var refusedSince: ContinuousClock.Instant?
    static let refusalMemory: Duration = .seconds(2)
    /// Peer exchange: what we last told it, and when.
    var pexSent: Set<PeerAddress> = []
    var pexSentAt: ContinuousClock.Instant?
    let source: PeerSource

    init(peerID: PeerID, address: PeerAddress, incoming: Bool, link: PeerLink, now: ContinuousClock.Instant,
         source: PeerSource, supportsFast: Bool) {
        self.conduct = PeerConduct(supportsFast: supportsFast, now: now)
        self.source = source
        self.peerID = peerID
        self.address = address
        self.incoming = incoming
        self.link = link
        self.downMeter = RateMeter(origin: now)
        self.upMeter = RateMeter(origin: now)
        self.usefulAt = now
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
    var source: PeerSource = .tracker
}

/// How we learned of a peer, shown as the peer list's H (DHT), X (peer exchange) and I
/// (it connected to us) flags.
public enum PeerSource: String, Sendable, Hashable {
    case tracker, dht, pex, incoming, manual
}

/// What a peer's handshake said it speaks.
struct PeerCapabilities: Sendable {
    var extensions: Bool
    var fast: Bool
    var dht: Bool

    init(_ handshake: Handshake) {
        extensions = handshake.supportsExtensions
        fast = handshake.supportsFast
        dht = handshake.supportsDHT
    }
}

/// The address a peer can be dialled at: where we dialled it, or for one that dialled us, its
/// host with the listening port from its extension handshake.
extension PeerRecord {
    var dialableAddress: PeerAddress? {
        if !incoming { return address }
        return extensions?.listenPort.map { PeerAddress(host: address.host, port: $0) }
    }
}
