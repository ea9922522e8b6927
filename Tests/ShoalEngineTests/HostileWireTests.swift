import Foundation
import ShoalCore
import ShoalEngine
import ShoalTestSupport
import Testing

/// Scripted attackers on raw sockets against a Shoal seeder: each misbehaviour gets the
/// connection closed, and afterwards the seeder still serves an honest leecher whole data.
@Suite("Hostile peers on the wire", .serialized)
struct HostileWireTests {
    struct Attack: Sendable, CustomStringConvertible {
        let description: String
        /// What the close must be counted as: the guard under test fired, not another one.
        let closes: CloseReason.Kind
        /// What follows a correct handshake (or replaces it, for `raw`).
        let bytes: @Sendable (_ hash: InfoHash, _ pieces: Int) -> [UInt8]
        var raw = false
    }

    static func frame(_ id: UInt8, _ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        PeerMessage.unknown(id: id, payload: payload).encode(into: &out)
        return out
    }

    static let attacks: [Attack] = [
        Attack(description: "wrong info-hash", closes: .handshakeFailed, bytes: { _, _ in
            Handshake(infoHash: InfoHash(bytes: [UInt8](repeating: 0x66, count: 20))!, peerID: .generate()).encoded
        }, raw: true),
        // Not a plaintext handshake, so tried as MSE: longer than any key and padding can be.
        Attack(description: "not BitTorrent at all", closes: .handshakeFailed, bytes: { _, _ in
            Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8) + [UInt8](repeating: 0, count: 700)
        }, raw: true),
        Attack(description: "a message longer than the cap", closes: .protocolViolation, bytes: { _, _ in [0x00, 0x10, 0x00, 0x00, 7] + [UInt8](repeating: 1, count: 64) }),
        Attack(description: "a bitfield of the wrong size", closes: .protocolViolation, bytes: { _, pieces in PeerMessage.bitfield([UInt8](repeating: 0xFF, count: (pieces + 7) / 8 + 3)).encoded }),
        Attack(description: "a bitfield with spare bits set", closes: .protocolViolation, bytes: { _, pieces in
            PeerMessage.bitfield([UInt8](repeating: 0xFF, count: (pieces + 7) / 8)).encoded
        }),
        Attack(description: "have for a piece out of range", closes: .protocolViolation, bytes: { _, pieces in PeerMessage.have(piece: pieces + 5).encoded }),
        Attack(description: "request for a piece out of range", closes: .protocolViolation, bytes: { _, pieces in
            PeerMessage.interested.encoded + PeerMessage.request(piece: pieces, offset: 0, length: 16_384).encoded
        }),
        Attack(description: "request longer than 16 KiB", closes: .protocolViolation, bytes: { _, _ in
            PeerMessage.interested.encoded + PeerMessage.request(piece: 0, offset: 0, length: 32_768).encoded
        }),
        Attack(description: "request crossing the piece end", closes: .protocolViolation, bytes: { _, _ in
            PeerMessage.interested.encoded + PeerMessage.request(piece: 0, offset: 24_576, length: 16_384).encoded
        }),
        Attack(description: "a flood of requests while choked", closes: .flood, bytes: { _, _ in
            (0..<400).flatMap { _ in PeerMessage.request(piece: 1, offset: 0, length: 16_384).encoded }
        }),
        Attack(description: "a malformed have (wrong length)", closes: .protocolViolation, bytes: { _, _ in frame(4, [0, 0, 1]) }),
        Attack(description: "have all without the fast extension", closes: .protocolViolation, bytes: { _, _ in PeerMessage.haveAll.encoded }),
        Attack(description: "a malformed extension handshake", closes: .protocolViolation, bytes: { _, _ in PeerMessage.extended(id: 0, payload: Array("d1:m".utf8)).encoded }),
    ]

    /// The idle timeout is long by default: a silent attacker is then closed only by the guard
    /// under test (the timeouts have tests of their own).
    static func seeder(_ harness: SwarmHarness, idleTimeout: Duration = .seconds(300),
                       handshakeTimeout: Duration = .seconds(60)) async throws -> (Session, Metainfo, URL) {
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "target.bin", files: nil, singleSize: 20 * 32_768 - 5, pieceLength: 32 << 10,
                                              in: seedDir, seed: 81, trackers: [])
        let seeder = try await harness.startSession("seed") { $0.handshakeTimeout = handshakeTimeout; $0.peerIdleTimeout = idleTimeout }
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        return (seeder, torrent, seedDir)
    }

    /// The seeder still works: an honest leecher gets every byte.
    static func stillServes(_ harness: SwarmHarness, _ seeder: Session, _ torrent: Metainfo, _ seedDir: URL, name: String) async throws {
        let leecher = try await harness.startSession(name)
        try await leecher.add(torrent)
        await leecher.addPeers(torrent.infoHash, [PeerAddress(host: "127.0.0.1", port: seeder.listenPort)])
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true })
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("target.bin"),
                                          harness.root.appendingPathComponent(name + "/target.bin")))
    }

    @Test("the connection is closed and the seeder keeps serving", arguments: attacks)
    func attackIsRepelled(_ attack: Attack) async throws {
        let harness = try SwarmHarness()
        let (seeder, torrent, seedDir) = try await Self.seeder(harness)
        let pieces = torrent.info.pieceCount
        let opening = attack.raw ? [] : Handshake(infoHash: torrent.infoHash, peerID: .generate(), reserved: [0, 0, 0, 0, 0, 0, 0, 0]).encoded
        let reply = try #require(await LoopbackSocket.exchange(opening + attack.bytes(torrent.infoHash, pieces), port: Int(seeder.listenPort),
                                                         timeout: 10))
        #expect(reply.closedByPeer, "\(attack): Shoal closed the connection")
        #expect(await harness.waitUntil(timeout: .seconds(10)) { await seeder.snapshot().torrents.first?.peers.isEmpty == true },
                "the attacker is gone from the peer list")
        // Counted where it ended: before a torrent was chosen (the session), or by the torrent.
        let counted = await harness.waitUntil(timeout: .seconds(10)) {
            let snapshot = await seeder.snapshot()
            return (attack.raw ? snapshot.refusedIncoming : snapshot.torrents.first?.closeReasons)?[attack.closes] == 1
        }
        let snapshot = await seeder.snapshot()
        #expect(counted, "\(attack): closed as \(attack.closes), counted \(snapshot.refusedIncoming) \(snapshot.torrents.first?.closeReasons ?? CloseCounts())")
        try await Self.stillServes(harness, seeder, torrent, seedDir, name: "honest")
        await harness.stopAll()
    }

    /// Slowloris: half a handshake, or half a message after it, then silence. Both are cut off
    /// (handshake timeout, peer idle timeout), not kept forever.
    @Test(arguments: [true, false])
    func stalledPeersAreCutOff(duringHandshake: Bool) async throws {
        let harness = try SwarmHarness()
        let (seeder, torrent, _) = try await Self.seeder(harness, idleTimeout: .seconds(2), handshakeTimeout: .seconds(2))
        var bytes = Handshake(infoHash: torrent.infoHash, peerID: .generate(), reserved: [0, 0, 0, 0, 0, 0, 0, 0]).encoded
        bytes = duringHandshake ? Array(bytes.prefix(30)) : bytes + [0x00, 0x00, 0x40, 0x09, 7, 0, 0]
        let reply = try #require(await LoopbackSocket.exchange(bytes, port: Int(seeder.listenPort), timeout: 15))
        #expect(reply.closedByPeer, "a stalled peer is disconnected within the timeouts")
        let counted = await harness.waitUntil(timeout: .seconds(10)) {
            let snapshot = await seeder.snapshot()
            return duringHandshake ? snapshot.refusedIncoming[.handshakeFailed] == 1 : snapshot.torrents.first?.closeReasons[.timedOut] == 1
        }
        #expect(counted, "closed by the \(duringHandshake ? "handshake" : "idle") timeout")
        await harness.stopAll()
    }

    /// A peer that asks for the metadata again and again and never reads the replies is cut
    /// off once 4 MiB of them wait for its socket, instead of our memory taking them all.
    @Test func metadataAskedAndNeverReadIsCutOff() async throws {
        let harness = try SwarmHarness()
        let (seeder, torrent, seedDir) = try await Self.seeder(harness)
        var reserved = [UInt8](repeating: 0, count: 8)
        reserved[5] = 0x10  // the extension protocol (BEP 10)
        let handshake = ExtensionHandshake(messageIDs: ["ut_metadata": 3]).encoded
        let ask = PeerMessage.extended(id: ExtensionHandshake.utMetadata, payload: MetadataMessage.request(piece: 0).encoded).encoded
        let bytes = Handshake(infoHash: torrent.infoHash, peerID: .generate(), reserved: reserved).encoded
            + PeerMessage.extended(id: 0, payload: handshake).encoded + Array([[UInt8]](repeating: ask, count: 60_000).joined())
        let replies = 60_000 * (torrent.rawInfo.count + 40)
        #expect(replies > 3 * (4 << 20), "the requests ask for \(replies) bytes, far more than the cap")
        let reply = try #require(await LoopbackSocket.exchange(bytes, port: Int(seeder.listenPort), timeout: 10, silence: 5))
        let (closed, received) = (reply.closedByPeer, reply.bytes.count)  // not the bytes into a failure message
        #expect(closed, "the silent asker was disconnected")
        #expect(received < replies / 2, "it got \(received) bytes, not every reply")
        #expect(await harness.waitUntil(timeout: .seconds(10)) { await seeder.snapshot().torrents.first?.closeReasons[.flood] == 1 })
        try await Self.stillServes(harness, seeder, torrent, seedDir, name: "honest")
        await harness.stopAll()
    }

    /// Pieces nobody asked for are not written, and the download completes with the right data.
    @Test func unrequestedPiecesAreIgnored() async throws {
        let harness = try SwarmHarness()
        let (seeder, torrent, seedDir) = try await Self.seeder(harness)
        let leecher = try await harness.startSession("leech")
        try await leecher.add(torrent)
        #expect(await harness.waitUntil { await leecher.snapshot().torrents.first?.activity == .downloading })
        var bytes = Handshake(infoHash: torrent.infoHash, peerID: .generate(), reserved: [0, 0, 0, 0, 0, 0, 0, 0]).encoded
        PeerMessage.bitfield(Bitfield(count: torrent.info.pieceCount, allSet: true).bytes).encode(into: &bytes)
        for piece in 0..<torrent.info.pieceCount - 1 {
            for offset in stride(from: 0, to: 32_768, by: 16_384) {
                PeerMessage.piece(piece: piece, offset: offset, data: [UInt8](repeating: 0xAB, count: 16_384)).encode(into: &bytes)
            }
        }
        _ = await LoopbackSocket.exchange(bytes, port: Int(leecher.listenPort), timeout: 2)
        #expect(await leecher.snapshot().torrents.first?.haveSize == 0, "nothing unrequested was taken")
        await leecher.addPeers(torrent.infoHash, [PeerAddress(host: "127.0.0.1", port: seeder.listenPort)])
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true })
        #expect(await leecher.snapshot().torrents.first?.hashFailures == 0)
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("target.bin"), harness.root.appendingPathComponent("leech/target.bin")))
        await harness.stopAll()
    }

    /// Thousands of connections opened and dropped (some mid-handshake): the seeder stays up and
    /// serves an honest leecher afterwards.
    @Test func connectionFlood() async throws {
        let harness = try SwarmHarness()
        let (seeder, torrent, seedDir) = try await Self.seeder(harness)
        let port = Int(seeder.listenPort)
        let handshake = Handshake(infoHash: torrent.infoHash, peerID: .generate(), reserved: [0, 0, 0, 0, 0, 0, 0, 0]).encoded
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for n in 0..<750 {
                        let bytes: [UInt8] = switch (worker + n) % 3 {
                        case 0: []
                        case 1: Array(handshake.prefix(20))
                        default: handshake
                        }
                        _ = await LoopbackSocket.exchange(bytes, port: port, timeout: 0.01)
                    }
                }
            }
        }
        try await Self.stillServes(harness, seeder, torrent, seedDir, name: "after-flood")
        await harness.stopAll()
    }
}
