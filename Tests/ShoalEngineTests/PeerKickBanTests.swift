import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// The Peers tab's k and K: the user closes a connection (the peer may come back) or bans the
/// peer's address (it is refused from then on, and the log says so).
@Suite("Kicking and banning a peer")
struct PeerKickBanTests {
    @Test func kickedPeerMayReturnBannedPeerIsRefused() async throws {
        let harness = try SwarmHarness()
        try await harness.startTracker()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "slow.bin", files: nil, singleSize: 2_000_000, pieceLength: 16 << 10,
                                              in: seedDir, seed: 61)
        // Slow enough that the leecher is still downloading, and so still dialling, throughout.
        let seeder = try await harness.startSession("seed") { $0.uploadLimit = 32 << 10 }
        let hash = try await seeder.add(torrent)
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await seeder.snapshot().torrents.first?.activity == .seeding })
        let leecher = try await harness.startSession("leech")
        let leechHash = try await leecher.add(torrent)
        let seederAddress = PeerAddress(host: "127.0.0.1", port: seeder.listenPort)
        await leecher.addPeers(leechHash, [seederAddress])
        @Sendable func connectedPeer() async -> String? { await seeder.snapshot().torrents.first?.peers.first?.address }
        #expect(await harness.waitUntil(timeout: .seconds(30)) { await connectedPeer() != nil })
        let first = try #require(await connectedPeer())

        try await seeder.closePeer(hash, address: first, ban: false)
        // Counted once the connection has closed.
        #expect(await harness.waitUntil(timeout: .seconds(10)) { await seeder.snapshot().torrents.first?.closeReasons[.byUser] == 1 })
        // Kicked, not banned: the leecher dials again and is let in.
        #expect(await harness.waitUntil(timeout: .seconds(40)) { await connectedPeer() != nil }, "the kicked peer came back")

        let second = try #require(await connectedPeer())
        try await seeder.closePeer(hash, address: second, ban: true)
        #expect(await harness.waitUntil(timeout: .seconds(10)) { await seeder.snapshot().torrents.first?.closeReasons[.banned] == 1 })
        // Banned: every further try from that address is refused.
        #expect(await harness.waitUntil(timeout: .seconds(40)) { (await seeder.snapshot().torrents.first?.closeReasons[.banned] ?? 0) >= 2 },
                "the banned peer dialled again and was refused")
        #expect(await seeder.snapshot().torrents.first?.peers.isEmpty == true)
        await #expect(throws: Session.SessionError.self) { try await seeder.closePeer(hash, address: "127.0.0.1:1", ban: false) }
        await harness.stopAll()
    }
}
