import Foundation
import Logging
import NIOCore
import NIOPosix
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Synchronization
import Testing

/// The transport seam: sessions whose every byte on the wire is transformed below the peer
/// protocol (here XOR with a key, a stand-in for a cipher) download as before, with no change
/// above the seam; a plain peer cannot talk to them.
@Suite("Peer transport seam", .serialized)
struct TransportSeamTests {
    @Test func sessionsOverAnObfuscatingTransportTradeWholeData() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "veiled.bin", files: nil, singleSize: 3 << 20, pieceLength: 64 << 10, in: seedDir,
                                              seed: 61, trackers: [])
        let transport = XORTransport(key: 0xA5, counter: XORTransport.Counter())
        let seeder = try await harness.startSession("seed") { try await Session.start($0, transport: transport) }
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        let leecher = try await harness.startSession("leech") { try await Session.start($0, transport: transport) }
        let hash = try await leecher.add(torrent)
        await leecher.addPeers(hash, [PeerAddress(host: "127.0.0.1", port: seeder.listenPort)])
        #expect(await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true })
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("veiled.bin"), harness.root.appendingPathComponent("leech/veiled.bin")))
        #expect(transport.counter.bytes.load(ordering: .relaxed) > 2 * (3 << 20), "every byte, both ways, went through the transport")

        // A peer speaking plain TCP sees only noise: its handshake fails on both sides.
        let plain = try await harness.startSession("plain")
        let plainHash = try await plain.add(torrent)
        await plain.addPeers(plainHash, [PeerAddress(host: "127.0.0.1", port: seeder.listenPort)])
        #expect(await harness.waitUntil(timeout: .seconds(20)) {
            (await plain.snapshot().torrents.first?.closeReasons[.handshakeFailed] ?? 0) >= 1
        }, "the plain peer could not read the seeder's handshake")
        #expect(await seeder.snapshot().refusedIncoming[.handshakeFailed] >= 1, "nor the seeder the plain one's")
        #expect(await plain.snapshot().torrents.first?.haveSize == 0)
        await harness.stopAll()
    }
}

/// Every byte XORed with `key` in both directions, as channel handlers under the async
/// wrapper: where a cipher (MSE's RC4) goes.
struct XORTransport: PeerTransport {
    final class Counter: Sendable {
        let bytes = Atomic<Int>(0)
    }

    let key: UInt8
    let counter: Counter

    func connect(to address: PeerAddress, infoHash: InfoHash, logger: Logger) async throws -> PeerStream {
        let channel = try await PeerConnection.bootstrap(MultiThreadedEventLoopGroup.singleton).connect(host: address.host, port: Int(address.port)) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(XORHandler(key: key, counter: counter))
                return try PeerConnection.Channel(wrappingChannelSynchronously: channel, configuration: PeerConnection.configuration)
            }
        }
        return PeerStream(channel: channel, encrypted: false, infoHash: nil)
    }

    func adopt(_ channel: any Channel) async throws -> PeerStream {
        let wrapped = try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(XORHandler(key: key, counter: counter), position: .first)
            let wrapped = try PeerConnection.Channel(wrappingChannelSynchronously: channel, configuration: PeerConnection.configuration)
            try channel.syncOptions?.setOption(.autoRead, value: true)
            return wrapped
        }.get()
        return PeerStream(channel: wrapped, encrypted: false, infoHash: nil)
    }
}

final class XORHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let key: UInt8
    let counter: XORTransport.Counter

    init(key: UInt8, counter: XORTransport.Counter) {
        self.key = key
        self.counter = counter
    }

    private func transform(_ buffer: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        counter.bytes.add(buffer.readableBytes, ordering: .relaxed)
        var out = allocator.buffer(capacity: buffer.readableBytes)
        out.writeBytes(buffer.readableBytesView.map { $0 ^ key })
        return out
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(wrapInboundOut(transform(unwrapInboundIn(data), allocator: context.channel.allocator)))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(wrapOutboundOut(transform(unwrapOutboundIn(data), allocator: context.channel.allocator)), promise: promise)
    }
}
