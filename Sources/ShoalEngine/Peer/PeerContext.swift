import Logging
import NIOPosix
import ShoalCore

/// What a connection task needs besides its torrent: read-only, shared by all of a torrent's peers.
struct PeerContext: Sendable {
    let infoHash: InfoHash
    /// A hybrid's v2 hash cut to 20 bytes: a peer may answer our v1 handshake with it, upgrading
    /// the connection to v2 (BEP 52; libtorrent 2 does when both set the v2 bit).
    var upgradedInfoHash: InfoHash? = nil
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

    init(infoHash: InfoHash, ourID: PeerID, pieceCount: Int, storage: FileStorage, uploadCache: UploadCache, pool: NIOThreadPool,
         uploadLimiters: [RateLimiter], downloadLimiters: [RateLimiter], reserved: [UInt8], handshakeTimeout: Duration = PeerContext.handshakeTimeout,
         transport: any PeerTransport, logger: Logger = Logger(label: "shoal", factory: { _ in SwiftLogNoOpLogHandler() }),
         upgradedInfoHash: InfoHash? = nil) {
        self.infoHash = infoHash
        self.ourID = ourID
        self.pieceCount = pieceCount
        self.storage = storage
        self.uploadCache = uploadCache
        self.pool = pool
        self.uploadLimiters = uploadLimiters
        self.downloadLimiters = downloadLimiters
        self.reserved = reserved
        self.handshakeTimeout = handshakeTimeout
        self.transport = transport
        self.logger = logger
        self.upgradedInfoHash = upgradedInfoHash
    }

    /// The hash a peer answered our handshake with names this torrent.
    func answers(_ hash: InfoHash) -> Bool { hash == infoHash || hash == upgradedInfoHash }

    static let handshakeTimeout = Duration.seconds(10)
}
