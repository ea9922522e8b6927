import ShoalCore
import Synchronization

/// The session's torrents by the key an MSE initiator names them with (HASH('req2', info-hash)),
/// so an incoming encrypted handshake finds its torrent in one lookup, on the event loop.
final class EncryptedTorrentIndex: Sendable {
    private let torrents = Mutex<[[UInt8]: InfoHash]>([:])

    func insert(_ infoHash: InfoHash) {
        let key = MSEKeyExchange.obfuscatedKey(for: infoHash)
        torrents.withLock { $0[key] = infoHash }
    }

    func remove(_ infoHash: InfoHash) {
        let key = MSEKeyExchange.obfuscatedKey(for: infoHash)
        torrents.withLock { $0[key] = nil }
    }

    func torrent(forKey key: [UInt8]) -> InfoHash? {
        torrents.withLock { $0[key] }
    }

    var lookup: MSEHandshake.TorrentLookup {
        { [self] key in torrent(forKey: key) }
    }
}
