import Foundation
import Synchronization
import NIOCore
import NIOPosix
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Testing

/// Message Stream Encryption between Shoal sessions on 127.0.0.1, under each `--encryption`
/// policy, and against handshakes that break its rules. Each download checks the bytes; each
/// refusal checks the reason the log gives.
@Suite("Protocol encryption (MSE)", .serialized)
struct EncryptionTests {
    struct Pair {
        let harness: SwarmHarness
        let seeder: Session
        let leecher: Session
        let torrent: Metainfo
        let seedLog: CapturedLog
        let leechLog: CapturedLog
    }

    /// A seeder and a leecher with the given policies; the leecher's download is capped so the
    /// connection lasts long enough to be looked at.
    static func pair(seeder seedPolicy: EncryptionPolicy, leecher leechPolicy: EncryptionPolicy) async throws -> Pair {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "secret.bin", files: nil, singleSize: 2 << 20, pieceLength: 64 << 10, in: seedDir,
                                              seed: 71, trackers: [])
        let seedLog = CapturedLog()
        let seeder = try await harness.startSession("seed") {
            $0.encryption = seedPolicy
            $0.logger = seedLog.logger()
        }
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        let leechLog = CapturedLog()
        let leecher = try await harness.startSession("leech") {
            $0.encryption = leechPolicy
            $0.logger = leechLog.logger()
            $0.downloadLimit = 1 << 20
        }
        let hash = try await leecher.add(torrent)
        await leecher.addPeers(hash, [PeerAddress(host: "127.0.0.1", port: seeder.listenPort)])
        return Pair(harness: harness, seeder: seeder, leecher: leecher, torrent: torrent, seedLog: seedLog, leechLog: leechLog)
    }

    /// Completes with the seeder's bytes; returns the flags both sides showed for each other
    /// while connected.
    static func completes(_ pair: Pair) async throws -> (seeder: String, leecher: String) {
        let seen = Mutex(("", ""))
        let connected = await pair.harness.waitUntil(timeout: .seconds(30)) {
            guard let theirs = await pair.seeder.snapshot().torrents.first?.peers.first,
                  let ours = await pair.leecher.snapshot().torrents.first?.peers.first else { return false }
            seen.withLock { $0 = (theirs.flags, ours.flags) }
            return true
        }
        let flags = seen.withLock { $0 }
        #expect(connected)
        #expect(await pair.harness.waitUntil(timeout: .seconds(60)) { await pair.leecher.snapshot().torrents.first?.isComplete == true })
        #expect(SwarmHarness.sameContents(pair.harness.root.appendingPathComponent("seed/secret.bin"),
                                          pair.harness.root.appendingPathComponent("leech/secret.bin")))
        return flags
    }

    static func logged(_ log: CapturedLog, _ text: String) -> Bool {
        log.all.contains { $0.message.contains(text) || $0.metadata.values.contains { $0.contains(text) } }
    }

    @Test func sessionsEncryptByDefault() async throws {
        #expect(EngineConfig(downloadDirectory: "/tmp").encryption == .prefer)
        let pair = try await Self.pair(seeder: .prefer, leecher: .prefer)
        let flags = try await Self.completes(pair)
        #expect(flags.seeder.contains("E") && flags.leecher.contains("E"), "both sides show E: \(flags)")
        #expect(!Self.logged(pair.leechLog, "trying plaintext"))
        await pair.harness.stopAll()
    }

    @Test func preferFallsBackToPlaintextOnce() async throws {
        let pair = try await Self.pair(seeder: .disable, leecher: .prefer)
        let flags = try await Self.completes(pair)
        #expect(!flags.seeder.contains("E") && !flags.leecher.contains("E"), "\(flags)")
        #expect(Self.logged(pair.leechLog, "encrypted handshake failed; trying plaintext"))
        #expect(Self.logged(pair.seedLog, "an encrypted handshake, and encryption is disabled"))
        await pair.harness.stopAll()
    }

    /// A peer that refused our encrypted handshake once is dialled in plaintext from then on.
    @Test func aPlaintextOnlyPeerIsRemembered() async throws {
        let harness = try SwarmHarness()
        let seedLog = CapturedLog()
        let seeder = try await harness.startSession("seed") {
            $0.encryption = .disable
            $0.logger = seedLog.logger()
        }
        let log = CapturedLog()
        let transport = TCPTransport(encryption: .prefer)
        let address = PeerAddress(host: "127.0.0.1", port: seeder.listenPort)
        let infoHash = InfoHash(bytes: [UInt8](repeating: 4, count: 20))!
        for _ in 0..<3 {
            let stream = try await transport.connect(to: address, infoHash: infoHash, logger: log.logger())
            #expect(!stream.encrypted)
            try await stream.channel.executeThenClose { _, _ in }
        }
        #expect(log.all.filter { $0.message.contains("trying plaintext") }.count == 1, "one encrypted try, then plaintext at once")
        #expect(await harness.waitUntil(timeout: .seconds(10)) { await seeder.snapshot().refusedIncoming.total == 4 })
        #expect(seedLog.all.filter { $0.metadata["reason"]?.contains("an encrypted handshake, and encryption is disabled") == true }.count == 1)
        // The plaintext ones, closed before a byte (before or after the listener read them),
        // are not called encrypted.
        #expect(!seedLog.all.contains { $0.metadata["reason"]?.contains("during the encrypted handshake") == true })
        await harness.stopAll()
    }

    /// allow dials plaintext; and as a responder it chooses plaintext when the dialler offers both.
    @Test func allowPrefersPlaintext() async throws {
        let first = try await Self.pair(seeder: .prefer, leecher: .allow)
        let plain = try await Self.completes(first)
        #expect(!plain.seeder.contains("E") && !plain.leecher.contains("E"), "\(plain)")
        await first.harness.stopAll()
        let pair = try await Self.pair(seeder: .allow, leecher: .prefer)
        let flags = try await Self.completes(pair)
        #expect(!flags.seeder.contains("E") && !flags.leecher.contains("E"), "an MSE handshake that chose plaintext: \(flags)")
        #expect(!Self.logged(pair.leechLog, "trying plaintext"))
        await pair.harness.stopAll()
    }

    @Test func requireRefusesPlaintextInBothDirections() async throws {
        // A plaintext peer dials a seeder that requires encryption.
        let first = try await Self.pair(seeder: .require, leecher: .disable)
        #expect(await first.harness.waitUntil(timeout: .seconds(20)) { await first.seeder.snapshot().refusedIncoming[.handshakeFailed] >= 1 })
        #expect(Self.logged(first.seedLog, "a plaintext handshake, and encryption is required"))
        #expect(await first.leecher.snapshot().torrents.first?.haveSize == 0)
        await first.harness.stopAll()
        // A leecher that requires encryption dials a plaintext-only seeder: no plaintext retry.
        let pair = try await Self.pair(seeder: .disable, leecher: .require)
        #expect(await pair.harness.waitUntil(timeout: .seconds(20)) {
            (await pair.leecher.snapshot().torrents.first?.closeReasons[.handshakeFailed] ?? 0) >= 1
        })
        // The seeder logs its refusal after closing, so the leecher may see the close first.
        #expect(await pair.harness.waitUntil(timeout: .seconds(10)) { Self.logged(pair.seedLog, "an encrypted handshake, and encryption is disabled") })
        #expect(!Self.logged(pair.leechLog, "trying plaintext"))
        #expect(await pair.leecher.snapshot().torrents.first?.haveSize == 0)
        await pair.harness.stopAll()
    }

    // MARK: Hostile handshakes

    enum Opening: String, CaseIterable, Sendable {
        /// A real key exchange, then a verification constant that decrypts to something else.
        case wrongVerificationConstant
        /// Key-sized noise and then more: no req1 hash ever comes.
        case endlessPadding
        /// Thirty bytes of a key, then silence.
        case slowloris
    }

    /// Each is closed by the seeder with its reason in the log and counted, and the seeder
    /// goes on serving an honest peer.
    @Test(arguments: Opening.allCases)
    func hostileHandshakesAreClosedWithAReason(_ opening: Opening) async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "secret.bin", files: nil, singleSize: 1 << 20, pieceLength: 64 << 10, in: seedDir,
                                              seed: 72, trackers: [])
        let log = CapturedLog()
        let seeder = try await harness.startSession("seed") {
            $0.logger = log.logger()
            $0.handshakeTimeout = .seconds(2)
        }
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })

        let closedByPeer = try await Self.attack(port: Int(seeder.listenPort), infoHash: torrent.infoHash, opening)
        #expect(closedByPeer, "the seeder closed the connection (not our own 10 s bound)")
        let reason = switch opening {
        case .wrongVerificationConstant: "MSE: wrong verification constant"
        case .endlessPadding: "MSE: no HASH('req1', S) within 512 bytes of padding"
        case .slowloris: "no handshake within 2.0 seconds"
        }
        #expect(await harness.waitUntil(timeout: .seconds(10)) { await seeder.snapshot().refusedIncoming[.handshakeFailed] == 1 })
        #expect(Self.logged(log, reason), "\(log.all.map { "\($0.message) \($0.metadata)" })")

        let leecher = try await harness.startSession("leech")
        try await leecher.add(torrent)
        await leecher.addPeers(torrent.infoHash, [PeerAddress(host: "127.0.0.1", port: seeder.listenPort)])
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true })
        await harness.stopAll()
    }

    /// Plays `opening` against the listener at `port`; true when the other side closed the
    /// connection within 10 s.
    static func attack(port: Int, infoHash: InfoHash, _ opening: Opening) async throws -> Bool {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port) {
            channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        let ourBound = PeerConnection.Flag()
        let timer = channel.channel.eventLoop.scheduleTask(in: .seconds(10)) {
            ourBound.set()
            channel.channel.close(promise: nil)
        }
        defer { timer.cancel() }
        try await channel.executeThenClose { inbound, outbound in
            var random = SplitMix64(seed: 11)
            var iterator = inbound.makeAsyncIterator()
            switch opening {
            case .wrongVerificationConstant:
                var (handshake, first) = MSEHandshake.initiator(infoHash: infoHash, provide: [.rc4], using: &random)
                try await outbound.write(ByteBuffer(bytes: first))
                var key: [UInt8] = []
                while key.count < 96, let buffer = try await iterator.next() { key += buffer.readableBytesView }
                var request = try handshake.receive(key.prefix(96)).send
                request[40] ^= 0x80 // the first byte of the encrypted verification constant
                try await outbound.write(ByteBuffer(bytes: request))
            case .endlessPadding:
                try await outbound.write(ByteBuffer(bytes: (0..<2000).map { _ in UInt8.random(in: 1...255, using: &random) }))
            case .slowloris:
                try await outbound.write(ByteBuffer(bytes: (0..<30).map { _ in UInt8.random(in: 1...255, using: &random) }))
            }
            do {
                while try await iterator.next() != nil {}
            } catch {}
        }
        return !ourBound.isSet
    }
}
