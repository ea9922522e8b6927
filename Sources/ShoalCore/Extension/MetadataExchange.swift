/// One connection of a magnet's metadata phase after the BitTorrent handshake (BEP 9 over
/// BEP 10), whether we dialled it or the peer did: our extension handshake, theirs, `ut_metadata`
/// requests and replies, peer exchange, and a peer that stops making progress. Pure: fed decoded
/// messages and the time, it says what to send, what it learned and why it closes. What to ask
/// for is the fetcher's (one assembler for all of a magnet's connections): the owner answers
/// each `learned` with the pieces to request, or a close.
public struct MetadataExchange: Sendable {
    public typealias Instant = ContinuousClock.Instant

    /// What a message taught, for the fetcher.
    public enum Learned: Sendable, Equatable {
        /// Their extension handshake: they serve metadata, of this size if they said.
        case size(Int?)
        /// A `ut_metadata` piece, rejection or request.
        case metadata(MetadataMessage)
        /// Addresses from their peer exchange.
        case peers([PeerAddress])
        /// A v2 magnet's piece hashes (BEP 52), or their refusal.
        case hashes(HashRequest, [UInt8])
        case hashReject(HashRequest)
    }

    public enum Outcome: Sendable, Equatable {
        case nothing
        case learned(Learned)
        case close(CloseReason)
    }

    /// A peer with nothing useful for this long is closed (a fetch must not hang on one).
    public static let stallLimit: Duration = .seconds(20)

    public let pex: Bool
    /// Their id for `ut_metadata`, once their extension handshake named it.
    public private(set) var theirMetadataID: UInt8?
    /// When the connection is closed for making no progress, unless progress comes first.
    public private(set) var deadline: Instant

    public init(pex: Bool, now: Instant) {
        self.pex = pex
        deadline = now + Self.stallLimit
    }

    /// Why a handshake rules a connection out of the metadata phase, if it does.
    public static func refusal(_ handshake: Handshake, ours: PeerID) -> CloseReason? {
        guard handshake.peerID != ours else { return CloseReason(.ourselves) }
        guard handshake.supportsExtensions else { return CloseReason(.useless, "no extension protocol, so no metadata") }
        return nil
    }

    /// Our extension handshake, sent first.
    public func opening(client: String, listenPort: UInt16) -> PeerMessage {
        var ids = ["ut_metadata": ExtensionHandshake.utMetadata]
        if pex { ids["ut_pex"] = ExtensionHandshake.utPex }
        return .extended(id: 0, payload: ExtensionHandshake(messageIDs: ids, client: client, listenPort: listenPort).encoded)
    }

    public mutating func receive(_ message: PeerMessage, now: Instant) -> Outcome {
        // The rest of the peer protocol (bitfield, have, choke...) means nothing before we
        // have the torrent.
        switch message {
        case .hashes(let request, let hashes):
            progressed(now: now)
            return .learned(.hashes(request, hashes))
        case .hashReject(let request):
            return .learned(.hashReject(request))
        default:
            break
        }
        guard case .extended(let id, let payload) = message else { return .nothing }
        switch id {
        case 0:
            guard let handshake = try? ExtensionHandshake(parsing: payload) else { return .close(.violation("malformed extension handshake")) }
            guard let theirs = handshake.id(of: "ut_metadata") else { return .close(CloseReason(.useless, "no ut_metadata")) }
            theirMetadataID = theirs
            progressed(now: now)
            return .learned(.size(handshake.metadataSize))
        case ExtensionHandshake.utMetadata:
            guard let parsed = try? MetadataMessage(parsing: payload) else { return .close(.violation("malformed ut_metadata message")) }
            if case .data = parsed { progressed(now: now) }
            return .learned(.metadata(parsed))
        case ExtensionHandshake.utPex:
            guard pex, let parsed = try? PexMessage(parsing: payload) else { return .nothing }
            return .learned(.peers(parsed.added))
        default:
            return .nothing
        }
    }

    /// Requests for these pieces, in their ids (none before their extension handshake).
    public func requests(_ pieces: [Int]) -> [PeerMessage] {
        guard let theirMetadataID else { return [] }
        return pieces.map { .extended(id: theirMetadataID, payload: MetadataMessage.request(piece: $0).encoded) }
    }

    /// The close a stall comes to at `now`, if it has.
    public func tick(now: Instant) -> CloseReason? {
        now >= deadline ? Self.stalled : nil
    }

    public static let stalled = CloseReason(.timedOut, "no metadata progress for 20 seconds")

    private mutating func progressed(now: Instant) { deadline = now + Self.stallLimit }
}
