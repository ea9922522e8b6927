import Logging
import NIOPosix
import ShoalCore

/// What a connection task needs besides its torrent: read-only, shared by all of a torrent's peers.
struct PeerContext: Sendable {
    let infoHash: InfoHash
    let ourID: PeerID
    let pieceCount: Int
    let storage: FileStorage
    let uploadCache: UploadCache
    let pool: NIOThreadPool
    let uploadLimiters: [RateLimiter]
    /// Some upload cap applies now (caps change while connections run).
    var uploadIsCapped: Bool { uploadLimiters.contains { $0.rate > 0 } }
    let downloadLimiters: [RateLimiter]
    /// Our handshake's reserved bits.
    let reserved: [UInt8]
    var handshakeTimeout: Duration = PeerContext.handshakeTimeout
    /// How connections are made (see `PeerTransport`).
    var transport: any PeerTransport
    /// The torrent's logger.
    var logger = Logger(label: "shoal", factory: { _ in SwiftLogNoOpLogHandler() })
    static let handshakeTimeout = Duration.seconds(10)
}
