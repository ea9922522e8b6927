import NIOCore
import ShoalCore

/// Sends the blocks a peer asked for, from the event loop that owns its socket: the data comes
/// from memory there (the shared chunk cache, or the page cache read in place), and only a
/// chunk that must come from the disk is read on the I/O pool.
///
/// A batch of requests normally goes from the torrent's actor straight to the event loop
/// (`PeerLink.serve`); the connection's serving task takes a batch when an upload cap applies,
/// the socket is full, the batch is large, or data must come from the disk. Before, every block
/// went serving task → pool → serving task → event loop: on a fast pair those hand-offs cost
/// the seeder more than the copies (a third of its profile was wakeups and task switches).
enum BlockSender {
    /// Blocks sent per trip to the event loop from the serving task (256 KiB), each trip after
    /// the upload limits let its bytes pass. Under a cap, one block per trip, so that capped
    /// peers sharing a limiter take turns block by block rather than 256 KiB at a time.
    static let blocksPerTrip = 16
    /// The largest batch sent straight from the actor (1 MiB): what it adds at most to the
    /// socket's queue beyond its send buffer.
    static let largestDirectBatch = 64

    /// Serves what is queued for the connection's task until the torrent closes the link; the
    /// reason when sending failed first.
    static func serveQueued(link: PeerLink) async -> CloseReason? {
        do {
            for await item in link.outgoing {
                switch item {
                case .blocks(let uploads): try await send(uploads, link: link)
                case .bytes(let messages): link.write(messages)
                }
                link.queuedItems.subtract(1, ordering: .relaxed)
            }
        } catch let error as StorageError {
            // The peer is not to blame: the data could not be read (a file gone, an I/O error).
            link.context.logger.warning("cannot read a block to upload: \(error)")
            return CloseReason(.diskError, "reading a block to upload: \(error)")
        } catch {
            return CloseReason(.connectionError, "sending: \(error)")
        }
        return nil
    }

    /// On the event loop, for a batch the actor handed over directly: what is not in memory
    /// goes to the serving task (after whatever queued there meanwhile: peers take blocks in
    /// any order).
    static func sendAtOnce(_ uploads: [Upload], link: PeerLink) {
        let trip = sendFromMemory(uploads[...], first: nil, link: link)
        if trip.sentUpTo < uploads.endIndex {
            link.queue(Array(uploads[trip.sentUpTo...]))
        }
        link.queuedItems.subtract(1, ordering: .relaxed)
    }

    private static func send(_ uploads: [Upload], link: PeerLink) async throws {
        let channel = link.channel
        let perTrip = link.context.uploadIsCapped ? 1 : blocksPerTrip
        var next = uploads.startIndex
        while next < uploads.endIndex {
            let end = min(next + perTrip, uploads.endIndex)
            // Requests cancelled or from before a choke are answered before they take any of an
            // upload cap: a capped seed in a 1 + 8 swarm spent its scarce bytes on blocks it then
            // did not send, and the last leecher finished 5-10 s later.
            var group = uploads[next..<end].filter { !withdrawn($0, link: link) }[...]
            next = end
            guard !group.isEmpty else { continue }
            await RateLimiter.pass(group.reduce(0) { $0 + $1.block.length }, through: link.context.uploadLimiters)
            var fromDisk: ByteBuffer?
            while !group.isEmpty {
                let (pending, first) = (group, fromDisk)
                let trip = try await channel.eventLoop.submit { sendFromMemory(pending, first: first, link: link) }.get()
                group = group[trip.sentUpTo...]
                // Stopped early: the next block's data is on disk only.
                if let waiting = group.first { fromDisk = try await blockFromDisk(waiting.block, context: link.context) }
                if let written = trip.lastWrite, !channel.isWritable { try await written.get() }
            }
        }
    }

    /// Whether the peer cancelled the request or it was asked before a choke: if so it is
    /// answered with a reject (BEP 6) and counted as done.
    private static func withdrawn(_ upload: Upload, link: PeerLink) -> Bool {
        let current = upload.epoch == -1 || link.chokeEpoch.load(ordering: .relaxed) == upload.epoch
        guard link.cancelled.withLock({ $0.remove(upload.block) != nil }) || !current else { return false }
        link.queuedUploads.subtract(1, ordering: .relaxed)
        if let reject = rejectIfFast(upload.block, link: link) { link.channel.writeAndFlush(reject, promise: nil) }
        return true
    }

    /// On the event loop: writes the group's blocks (or rejects for those cancelled or asked
    /// before a choke) until one whose data is not in memory; `first` is the first block's
    /// data when the caller read it from disk. Returns where it stopped and the last write.
    private static func sendFromMemory(_ group: ArraySlice<Upload>, first: ByteBuffer?, link: PeerLink)
        -> (sentUpTo: Int, lastWrite: EventLoopFuture<Void>?)
    {
        let channel = link.channel
        var lastWrite: EventLoopFuture<Void>?
        // Counted as uploaded once in the socket, not when queued: a seeder that reached its
        // ratio goal on bytes still queued closed before the leecher had them. Writes complete in
        // order, so the group's last write stands for all of them.
        var queuedBytes: Int64 = 0
        defer {
            channel.flush()
            if let lastWrite, queuedBytes > 0 {
                let count = queuedBytes
                lastWrite.whenSuccess { link.uploadedBytes.add(count, ordering: .relaxed) }
            }
        }
        for index in group.indices {
            let upload = group[index]
            let block = upload.block
            if withdrawn(upload, link: link) { continue }
            guard let data = (index == group.startIndex ? first : nil) ?? blockInMemory(block, context: link.context, allocator: channel.allocator)
            else {
                // Not in memory: read on the pool by the serving task. A cancel arriving
                // meanwhile is seen when it comes back.
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
            queuedBytes += Int64(block.length)
        }
        return (group.endIndex, lastWrite)
    }

    /// A block to upload from memory: the shared chunk cache, or its chunk read in place from
    /// the page cache (and cached). Nil when the data is on disk only. Never blocks, so the
    /// event loop may call it.
    private static func blockInMemory(_ block: BlockRequest, context: PeerContext, allocator: ByteBufferAllocator) -> ByteBuffer? {
        let source = source(of: block, geometry: context.storage.geometry)
        if let key = source.key, let cached = context.uploadCache.block(block, in: key) { return cached }
        var data = allocator.buffer(capacity: source.length)
        let read = data.writeWithUnsafeMutableBytes(minimumWritableBytes: source.length) { raw in
            context.storage.readIfCached(offset: source.offset, into: UnsafeMutableRawBufferPointer(rebasing: raw[..<source.length]))
                ? source.length : 0
        }
        return read > 0 ? take(block, from: data, key: source.key, cache: context.uploadCache) : nil
    }

    /// A block whose data is not in memory: read on the I/O pool (where a slow disk blocks no
    /// socket), its chunk cached.
    private static func blockFromDisk(_ block: BlockRequest, context: PeerContext) async throws -> ByteBuffer {
        let (storage, source) = (context.storage, source(of: block, geometry: context.storage.geometry))
        let data = try await context.pool.runIfActive {
            var data = ByteBufferAllocator().buffer(capacity: source.length)
            try data.writeWithUnsafeMutableBytes(minimumWritableBytes: source.length) { raw in
                try storage.read(offset: source.offset, into: UnsafeMutableRawBufferPointer(rebasing: raw[..<source.length]))
                return source.length
            }
            return data
        }
        guard let slice = take(block, from: data, key: source.key, cache: context.uploadCache)
        else { throw StorageError("block \(block.piece.value)+\(block.offset) outside its chunk") }
        return slice
    }

    /// What is read for a block: its 128 KiB chunk, kept for the blocks after it, or the block
    /// alone when it crosses a chunk boundary (only an odd request does).
    private static func source(of block: BlockRequest, geometry: TorrentGeometry) -> (key: UploadCache.Key?, offset: Int64, length: Int) {
        if let chunk = UploadCache.chunk(of: block, geometry: geometry) { return (chunk.key, chunk.offset, chunk.length) }
        return (nil, geometry.offset(of: block.piece) + Int64(block.offset), block.length)
    }

    /// The block out of what was read for it: a chunk is cached and the block sliced from it.
    private static func take(_ block: BlockRequest, from data: ByteBuffer, key: UploadCache.Key?, cache: UploadCache) -> ByteBuffer? {
        guard let key else { return data }
        cache.insert(key, data: data)
        return UploadCache.slice(block, of: data, key: key)
    }

    /// A fast peer is told when a request it made will not be served (BEP 6); others infer it
    /// from the choke.
    private static func rejectIfFast(_ block: BlockRequest, link: PeerLink) -> ByteBuffer? {
        guard link.fast.load(ordering: .relaxed) else { return nil }
        return ByteBuffer(bytes: PeerMessage.reject(piece: block.piece.value, offset: block.offset, length: block.length).encoded)
    }
}
