import NIOCore
import NIOPosix
import ShoalCore

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

    /// Wraps an accepted socket (opened with autoRead off) and starts reading.
    static func adopt(_ channel: any NIOCore.Channel) async throws -> Channel {
        try await channel.eventLoop.submit {
            let wrapped = try Channel(wrappingChannelSynchronously: channel, configuration: configuration)
            try channel.syncOptions?.setOption(.autoRead, value: true)
            return wrapped
        }.get()
    }

    /// Dials a peer found by a tracker and runs the connection until either side ends it.
    static func dial(_ address: PeerAddress, torrent: TorrentRuntime, context: PeerContext) async {
        do {
            let channel = try await bootstrap(MultiThreadedEventLoopGroup.singleton)
                .connect(host: address.host, port: Int(address.port)) { wrap($0) }
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
                guard handshake.infoHash == context.infoHash else { throw HandshakeFailure(description: "wrong info-hash") }
                await run(handshake: handshake, address: address, incoming: false, iterator: &iterator,
                          outbound: outbound, decoder: decoder, channel: raw, torrent: torrent, context: context)
            }
        } catch {
            await torrent.dialFailed(address, reason: "\(error)")
            return
        }
    }

    /// Runs a connection a listener accepted, after its handshake was read and routed here.
    static func accepted(handshake: Handshake, remote: PeerAddress, iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
                         outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, decoder: PeerWireDecoder,
                         channel: any NIOCore.Channel, torrent: TorrentRuntime, context: PeerContext) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: Handshake(infoHash: context.infoHash, peerID: context.ourID,
                                                                    reserved: context.reserved).encoded))
        await run(handshake: handshake, address: remote, incoming: true, iterator: &iterator, outbound: outbound,
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
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout / .nanoseconds(1)))) { channel.close(promise: nil) }
        defer { timer.cancel() }
        return try await body()
    }

    private static func run(handshake: Handshake, address: PeerAddress, incoming: Bool,
                            iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
                            outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, decoder: PeerWireDecoder,
                            channel: any NIOCore.Channel, torrent: TorrentRuntime, context: PeerContext) async {
        let link = PeerLink(channel: channel)
        guard let key = await torrent.register(peerID: handshake.peerID, address: address, incoming: incoming, link: link,
                                               capabilities: PeerCapabilities(handshake))
        else { return }
        let reason = await withTaskGroup(of: Void.self) { group in
            // The server ends when the torrent closes the link (or a write fails); closing the
            // channel then ends the reader below, so neither loop outlives the other.
            group.addTask {
                await serve(link: link, channel: channel, context: context)
                outbound.finish()
                channel.close(promise: nil)
            }
            let reason = await read(&iterator, decoder: decoder, channel: channel, key: key, torrent: torrent, context: context)
            link.close()
            await group.waitForAll()
            return reason
        }
        await torrent.disconnected(key, reason: reason)
    }

    private static func read(_ iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, decoder: PeerWireDecoder,
                             channel: any NIOCore.Channel, key: Int, torrent: TorrentRuntime, context: PeerContext) async -> String {
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
            return "closed by peer"
        } catch is CancellationError {
            return "closed"
        } catch {
            return "\(error)"
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

    /// A block to upload from memory: the shared chunk cache, or its chunk read in place from
    /// the page cache (and cached). Nil when the data is on disk only. Never blocks, so the
    /// event loop may call it.
    private static func blockInMemory(_ block: BlockRequest, context: PeerContext, allocator: ByteBufferAllocator) -> ByteBuffer? {
        let storage = context.storage
        guard let chunk = UploadCache.chunk(of: block, geometry: storage.geometry) else {
            // An odd request across a chunk boundary is read alone.
            var buffer = allocator.buffer(capacity: block.length)
            let offset = storage.geometry.offset(of: block.piece) + Int64(block.offset)
            let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: block.length) { raw in
                storage.readIfCached(offset: offset, into: UnsafeMutableRawBufferPointer(rebasing: raw[..<block.length])) ? block.length : 0
            }
            return read > 0 ? buffer : nil
        }
        if let cached = context.uploadCache.block(block, in: chunk.key) { return cached }
        var buffer = allocator.buffer(capacity: chunk.length)
        let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: chunk.length) { raw in
            storage.readIfCached(offset: chunk.offset, into: UnsafeMutableRawBufferPointer(rebasing: raw[..<chunk.length])) ? chunk.length : 0
        }
        guard read > 0 else { return nil }
        context.uploadCache.insert(chunk.key, data: buffer)
        return buffer.getSlice(at: buffer.readerIndex + block.offset - chunk.key.chunk * UploadCache.chunkLength, length: block.length)
    }

    /// A block whose data is not in memory: read with its chunk on the I/O pool (where a slow
    /// disk blocks no socket), and the chunk cached.
    private static func blockFromDisk(_ block: BlockRequest, context: PeerContext) async throws -> ByteBuffer {
        let storage = context.storage
        guard let chunk = UploadCache.chunk(of: block, geometry: storage.geometry) else {
            let offset = storage.geometry.offset(of: block.piece) + Int64(block.offset)
            return ByteBuffer(bytes: try await context.pool.runIfActive { try storage.read(offset: offset, length: block.length) })
        }
        let data = try await context.pool.runIfActive {
            var buffer = ByteBufferAllocator().buffer(capacity: chunk.length)
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: chunk.length) { raw in
                try storage.read(offset: chunk.offset, into: UnsafeMutableRawBufferPointer(rebasing: raw[..<chunk.length]))
                return chunk.length
            }
            return buffer
        }
        context.uploadCache.insert(chunk.key, data: data)
        guard let slice = data.getSlice(at: data.readerIndex + block.offset - chunk.key.chunk * UploadCache.chunkLength, length: block.length)
        else { throw StorageError("block \(block.piece.value)+\(block.offset) outside its chunk") }
        return slice
    }

    /// A fast peer is told when a request it made will not be served (BEP 6); others infer it
    /// from the choke.
    private static func rejectIfFast(_ block: BlockRequest, link: PeerLink) -> ByteBuffer? {
        guard link.fast.load(ordering: .relaxed) else { return nil }
        return ByteBuffer(bytes: PeerMessage.reject(piece: block.piece.value, offset: block.offset, length: block.length).encoded)
    }

    /// Blocks sent per trip to the event loop (256 KiB), each trip after the upload limits let
    /// its bytes pass.
    static let blocksPerTrip = 16

    /// Sends requested blocks from the event loop that owns the socket: the data comes from
    /// memory there (`blockInMemory`), and only a chunk that must come from the disk is read on
    /// the I/O pool. Before, every block went writer task → pool → writer task → event loop; on
    /// a fast pair those hand-offs cost the seeder more than the copies (a third of its profile
    /// was wakeups and task switches).
    private static func send(_ uploads: [Upload], link: PeerLink, channel: any NIOCore.Channel, context: PeerContext) async throws {
        var next = uploads.startIndex
        while next < uploads.endIndex {
            let end = min(next + blocksPerTrip, uploads.endIndex)
            await RateLimiter.pass(uploads[next..<end].reduce(0) { $0 + $1.block.length }, through: context.uploadLimiters)
            var fromDisk: ByteBuffer?
            while next < end {
                let group = uploads[next..<end]
                let first = fromDisk
                let trip = try await channel.eventLoop.submit {
                    sendFromMemory(group, first: first, link: link, channel: channel, context: context)
                }.get()
                next = trip.sentUpTo
                fromDisk = next < end ? try await blockFromDisk(uploads[next].block, context: context) : nil
                if let written = trip.lastWrite, !channel.isWritable { try await written.get() }
            }
        }
    }

    /// On the event loop: writes the group's blocks (or rejects for those cancelled or asked
    /// before a choke) until one whose data is not in memory; `first` is the first block's
    /// data when the caller read it from disk. Returns where it stopped and the last write.
    private static func sendFromMemory(_ group: ArraySlice<Upload>, first: ByteBuffer?, link: PeerLink,
                                       channel: any NIOCore.Channel, context: PeerContext)
        -> (sentUpTo: Int, lastWrite: EventLoopFuture<Void>?)
    {
        var lastWrite: EventLoopFuture<Void>?
        defer { channel.flush() }
        for index in group.indices {
            let upload = group[index]
            let block = upload.block
            let current = upload.epoch == -1 || link.chokeEpoch.load(ordering: .relaxed) == upload.epoch
            // BEP 6: a cancelled request is answered with a reject, and so is one from before a choke.
            guard !link.cancelled.withLock({ $0.remove(block) != nil }), current else {
                link.queuedUploads.subtract(1, ordering: .relaxed)
                if let reject = rejectIfFast(block, link: link) { lastWrite = channel.write(reject) }
                continue
            }
            guard let data = index == group.startIndex ? first ?? blockInMemory(block, context: context, allocator: channel.allocator)
                    : blockInMemory(block, context: context, allocator: channel.allocator)
            else {
                // Not in memory: the caller reads it on the pool. A cancel arriving meanwhile
                // is seen when it comes back.
                return (index, lastWrite)
            }
            link.queuedUploads.subtract(1, ordering: .relaxed)
            // The message header, then the block as a slice of the cached chunk: no copy.
            var header = channel.allocator.buffer(capacity: 13)
            header.writeInteger(UInt32(9 + data.readableBytes))
            header.writeInteger(UInt8(7))
            header.writeInteger(UInt32(block.piece.value))
            header.writeInteger(UInt32(block.offset))
            channel.write(header, promise: nil)
            lastWrite = channel.write(data)
            link.uploadedBytes.add(Int64(block.length), ordering: .relaxed)
        }
        return (group.endIndex, lastWrite)
    }

    /// Serves the link's uploads until the torrent closes it.
    private static func serve(link: PeerLink, channel: any NIOCore.Channel, context: PeerContext) async {
        do {
            for await uploads in link.uploads {
                try await send(uploads, link: link, channel: channel, context: context)
            }
        } catch {
            // The connection is gone; the reader notices and reports why.
        }
    }
}
