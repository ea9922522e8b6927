import NIOCore
import NIOPosix
import ShoalCore
import Synchronization

/// One TCP connection to a peer: handshake, then two loops — bytes in, decoded and handed to the
/// torrent; messages out, from the torrent's queue. Holds no protocol state of its own.
enum PeerConnection {
    typealias Channel = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    struct HandshakeFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Reads of up to 64 KiB to begin with (see `ReceiveSizing`).
    static let receiveAllocator = ReceiveSizing.small

    static func bootstrap(_ group: any EventLoopGroup) -> ClientBootstrap {
        ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: receiveAllocator)
    }

    /// At most four reads wait for the reader (NIO's default lets ten pile up).
    static let configuration = Channel.Configuration(backPressureStrategy: .init(lowWatermark: 2, highWatermark: 4),
                                                     isOutboundHalfClosureEnabled: true)

    static func wrap(_ channel: any NIOCore.Channel) -> EventLoopFuture<Channel> {
        channel.eventLoop.makeCompletedFuture {
            try Channel(wrappingChannelSynchronously: channel, configuration: configuration)
        }
    }

    /// Dials a peer found by a tracker and runs the connection until either side ends it.
    static func dial(_ address: PeerAddress, torrent: TorrentRuntime, context: PeerContext) async {
        guard DescriptorBudget.shared.takeSocket() else {
            return await torrent.dialFailed(address, reason: CloseReason(.enoughPeers, DescriptorBudget.Exhausted().description))
        }
        defer { DescriptorBudget.shared.giveSocket() }
        let stream: PeerStream
        do {
            stream = try await context.transport.connect(to: address, infoHash: context.infoHash, logger: context.logger)
        } catch let failure as HandshakeFailure {
            return await torrent.dialFailed(address, reason: CloseReason(.handshakeFailed, failure.description))
        } catch {
            return await torrent.dialFailed(address, reason: CloseReason(.connectFailed, "\(error)"))
        }
        let channel = stream.channel
        var handshakeDone = false
        do {
            let raw = channel.channel
            try await channel.executeThenClose { inbound, outbound in
                // Every write goes through the channel itself (see `PeerLink.send`), in order.
                try await raw.writeAndFlush(ByteBuffer(bytes: Handshake(infoHash: context.infoHash, peerID: context.ourID,
                                                                        reserved: context.reserved).encoded))
                var iterator = inbound.makeAsyncIterator()
                var decoder = PeerWireDecoder(pieceCount: context.pieceCount)
                let handshake = try await withDeadline(channel: raw, timeout: context.handshakeTimeout) {
                    try await readHandshake(&iterator, into: &decoder)
                }
                guard context.answers(handshake.infoHash) else {
                    throw HandshakeFailure(description: "wrong info-hash: \(handshake.infoHash.hex)")
                }
                handshakeDone = true
                await run(handshake: handshake, address: address, incoming: false, stream: stream, iterator: &iterator,
                          outbound: outbound, decoder: decoder, channel: raw, torrent: torrent, context: context)
            }
        } catch {
            // After the handshake, `run` has reported how the connection ended.
            if !handshakeDone { await torrent.dialFailed(address, reason: CloseReason(.handshakeFailed, "\(error)")) }
        }
    }

    /// Runs a connection a listener accepted, after its handshake was read and routed here.
    static func accepted(handshake: Handshake, remote: PeerAddress, stream: PeerStream, iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
                         outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, decoder: PeerWireDecoder,
                         channel: any NIOCore.Channel, torrent: TorrentRuntime, context: PeerContext) async throws {
        // The hash it named: a hybrid's v1 hash, or its v2 hash from a peer that knows only that.
        try await channel.writeAndFlush(ByteBuffer(bytes: Handshake(infoHash: handshake.infoHash, peerID: context.ourID,
                                                                    reserved: context.reserved).encoded))
        await run(handshake: handshake, address: remote, incoming: true, stream: stream, iterator: &iterator, outbound: outbound,
                  decoder: decoder, channel: channel, torrent: torrent, context: context)
    }

    static func readHandshake(_ iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
                              into decoder: inout PeerWireDecoder) async throws -> Handshake {
        while true {
            if let raw = decoder.takeRaw(Handshake.length) { return try Handshake(parsing: raw) }
            guard let buffer = try await iterator.next() else {
                throw HandshakeFailure(description: "closed during the handshake")
            }
            decoder.append(buffer.readableBytesView)
        }
    }

    /// Runs `body`; if it has not finished within `timeout`, closes the channel so the read it
    /// is blocked in ends with an error. An event-loop timer, not a sleeping task: under a flood
    /// of connections each costs a cancelled timer, freed at once.
    static func withDeadline<T>(channel: any NIOCore.Channel, timeout: Duration = PeerContext.handshakeTimeout,
                                _ body: () async throws -> T) async throws -> T {
        let fired = Flag()
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout / .nanoseconds(1)))) {
            fired.set()
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        do {
            return try await body()
        } catch where fired.isSet {
            // The read ended because the timer closed the channel, not because the peer did.
            throw HandshakeFailure(description: "no handshake within \(timeout)")
        }
    }

    final class Flag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }

    private static func run(handshake: Handshake, address: PeerAddress, incoming: Bool, stream: PeerStream,
                            iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
                            outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, decoder: PeerWireDecoder,
                            channel: any NIOCore.Channel, torrent: TorrentRuntime, context: PeerContext) async {
        let link = PeerLink(channel: channel, context: context, encrypted: stream.encrypted, utp: stream.utp)
        guard let key = await torrent.register(peerID: handshake.peerID, address: address, incoming: incoming, link: link,
                                               capabilities: PeerCapabilities(handshake))
        else { return }
        let reason = await withTaskGroup(of: CloseReason?.self) { group in
            // The serving task ends when the torrent closes the link (or a write fails); closing the
            // channel then ends the reader below, so neither loop outlives the other.
            group.addTask {
                let failure = await BlockSender.serveQueued(link: link)
                outbound.finish()
                channel.close(promise: nil)
                return failure
            }
            let readEnded = await read(&iterator, decoder: decoder, channel: channel, key: key, torrent: torrent, context: context)
            link.close()
            // A failed send closed the channel first, so the reader's view is only its echo.
            var sendFailed: CloseReason?
            for await failure in group { sendFailed = failure }
            return sendFailed ?? readEnded
        }
        await torrent.disconnected(key, reason: reason)
    }

    private static func read(_ iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, decoder: PeerWireDecoder,
                             channel: any NIOCore.Channel, key: Int, torrent: TorrentRuntime, context: PeerContext) async -> CloseReason {
        var decoder = decoder
        var sizing = ReceiveSizing(now: .now)
        do {
            // Messages that arrived in the same packets as the handshake (decoding no new bytes
            // hands over what is buffered).
            var messages: [PeerMessage] = []
            try decoder.decode(UnsafeRawBufferPointer(start: nil, count: 0), into: &messages)
            try await deliver(messages, key: key, torrent: torrent, context: context)
            while let buffer = try await iterator.next() {
                if let allocator = sizing.received(buffer.readableBytes, now: .now) {
                    channel.setOption(.recvAllocator, value: allocator).whenFailure { _ in }
                }
                messages = []
                try buffer.withUnsafeReadableBytes { bytes throws(PeerWireDecoder.DecodeError) in
                    try decoder.decode(bytes, into: &messages)
                }
                try await deliver(messages, key: key, torrent: torrent, context: context)
            }
            return CloseReason(.closedByPeer)
        } catch is CancellationError {
            return CloseReason(.stopped, "cancelled")
        } catch let error as PeerWireDecoder.DecodeError {
            return CloseReason(error)
        } catch {
            return CloseReason(.connectionError, "\(error)")
        }
    }

    /// Hands the torrent the messages of one read in one call; blocks received first pass the
    /// download limit.
    private static func deliver(_ messages: [PeerMessage], key: Int, torrent: TorrentRuntime, context: PeerContext) async throws {
        guard !messages.isEmpty else { return }
        var blockBytes = 0
        for case .piece(_, _, let data) in messages { blockBytes += data.count }
        if blockBytes > 0 { await RateLimiter.pass(blockBytes, through: context.downloadLimiters) }
        await torrent.handle(messages, from: key)
    }
}
