import Foundation
import ShoalCore
import ShoalTestSupport
import Synchronization
import Testing
@testable import ShoalEngine

/// Connections that handshake and then only send keep-alives, holding slots they never use.
final class SlotHoggers: @unchecked Sendable {
    private var sockets: [Int32] = []
    /// Shared with the keep-alive thread (Atomic itself cannot be captured).
    private final class Flag: Sendable { let stopped = Atomic<Bool>(false) }
    private let flag = Flag()
    private let thread: Thread

    /// Opens `count` connections to `port`, each sending a handshake for `hash`, then a
    /// keep-alive every second and reading whatever comes, until `stop()`.
    init(count: Int, port: UInt16, hash: InfoHash) {
        var opened: [Int32] = []
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(port.bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { close(fd); continue }
            let hello = Handshake(infoHash: hash, peerID: .generate()).encoded
            _ = hello.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            opened.append(fd)
        }
        sockets = opened
        let fds = opened
        let flag = self.flag
        thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while !flag.stopped.load(ordering: .relaxed) {
                for fd in fds {
                    _ = [UInt8](repeating: 0, count: 4).withUnsafeBytes { send(fd, $0.baseAddress, 4, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                    while recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT)) > 0 {}
                }
                usleep(1_000_000)
            }
        }
        thread.start()
    }

    /// Connections the other side has closed.
    var closedCount: Int {
        sockets.filter { fd in
            var byte: UInt8 = 0
            return recv(fd, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK)) == 0
        }.count
    }

    func stop() {
        flag.stopped.store(true, ordering: .relaxed)
        for fd in sockets { close(fd) }
    }
}

@Suite("Slots held by useless peers", .serialized)
struct SlotHoggingTests {
    /// Ten idle connections fill a seeder allowed ten peers: an honest leecher still gets in
    /// (in the first release it waited for minutes), and two slots stay for peers the seeder dials.
    @Test func anHonestLeecherGetsInPastIdleConnections() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "hogged.bin", files: nil, singleSize: 400_000, pieceLength: 16 << 10,
                                              in: seedDir, seed: 91, trackers: [])
        let seeder = try await harness.startSession("seed") {
            $0.maxPeersPerTorrent = 10
            $0.slotReplaceAfter = .seconds(2)
        }
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        let hoggers = SlotHoggers(count: 12, port: seeder.listenPort, hash: torrent.infoHash)
        defer { hoggers.stop() }
        #expect(await harness.waitUntil(timeout: .seconds(10)) { await seeder.snapshot().torrents.first?.peers.count == 8 },
                "incoming connections take 8 of the 10 slots")
        let leecher = try await harness.startSession("leech")
        try await leecher.add(torrent)
        await leecher.addPeers(torrent.infoHash, [PeerAddress(host: "127.0.0.1", port: seeder.listenPort)])
        let done = await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true }
        #expect(done, "the leecher never got a slot")
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("hogged.bin"), harness.root.appendingPathComponent("leech/hogged.bin")))
        #expect(hoggers.closedCount >= 1, "an idle connection made room")
        await harness.stopAll()
    }
}

/// What a torrent remembers of connections that are gone stays bounded however many come and go.
@Suite("Memory of past connections")
struct PastConnectionTests {
    @Test func idsOfGoneConnectionsAreForgotten() async throws {
        let harness = try SwarmHarness()
        let torrent = try harness.makeTorrent(name: "churn.bin", files: nil, singleSize: 100_000, pieceLength: 16 << 10,
                                              in: harness.root.appendingPathComponent("seed"), seed: 93, trackers: [])
        let seeder = try await harness.startSession("seed")
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        // Thirty connections that handshake and leave, one after another.
        for _ in 0..<30 {
            let hello = Handshake(infoHash: torrent.infoHash, peerID: .generate()).encoded
            _ = await LoopbackSocket.exchange(hello, port: Int(seeder.listenPort), timeout: 0.3)
        }
        let runtime = try #require(await seeder.runtime(for: torrent.infoHash))
        #expect(await harness.waitUntil(timeout: .seconds(10)) { await runtime.connectionCount == 0 })
        await runtime.forgetGoneSenders(now: .now)
        #expect(await runtime.rememberedSenders == 0, "ids of connections that sent nothing unchecked are dropped")
        await harness.stopAll()
    }
}
