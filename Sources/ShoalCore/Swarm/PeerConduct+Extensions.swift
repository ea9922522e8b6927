/// The extension protocol's rules (BEP 10): the extension handshake, metadata requests (BEP 9)
/// from a peer that came by magnet, and peer exchange (BEP 11).
extension PeerConduct {
    /// BEP 11 asks for at most one message a minute; a chattier peer is not listened to.
    public static let pexMinimumGap: Duration = .seconds(20)
    /// Messages waiting for its socket beyond this (4 MiB, hundreds of metadata replies) mean it
    /// asks and does not read: it is dropped rather than held in memory.
    public static let maxUnsentBytes = 4 << 20

    mutating func receiveExtended(_ id: UInt8, _ payload: [UInt8], context: Context) -> Verdict {
        switch id {
        case 0:
            do {
                let handshake = try ExtensionHandshake(parsing: payload)
                extensions = handshake
                return .accept(.extensionHandshake(handshake))
            } catch {
                return .close(.violation("extension handshake: \(error.description)"))
            }
        case ExtensionHandshake.utMetadata:
            // A peer that did not say where replies go, or sends us data (we have it): ignored.
            guard let theirs = extensions?.id(of: "ut_metadata"), case .request(let piece)? = try? MetadataMessage(parsing: payload)
            else { return .accept(.ignored) }
            guard context.unsentBytes < Self.maxUnsentBytes else {
                return .close(CloseReason(.flood, "asks for metadata and does not read the replies"))
            }
            return .accept(.metadataRequest(piece: piece, replyID: theirs))
        case ExtensionHandshake.utPex:
            guard context.pexAllowed else { return .accept(.ignored) }
            if let last = pexReceivedAt, context.now - last < Self.pexMinimumGap { return .accept(.ignored) }
            pexReceivedAt = context.now
            guard let message = try? PexMessage(parsing: payload) else { return .close(.violation("malformed ut_pex message")) }
            return .accept(.peerExchange(message))
        default:
            return .accept(.ignored)  // an id we never gave out: ignored, as BEP 10 allows
        }
    }
}
