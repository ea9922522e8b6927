import NIOCore
import ShoalCore
import Synchronization

/// A block to upload, stamped with the choke epoch it was asked in (-1: allowed fast, always served).
struct Upload: Sendable {
    let block: BlockRequest
    let epoch: Int
}

/// What waits for the connection's serving task, in the order the torrent sent it.
enum Outgoing: Sendable {
    case blocks([Upload])
    case bytes(ByteBuffer)
}

/// The shared line between a torrent (which decides) and a connection task (which does the I/O).
/// Messages and small uncapped batches of blocks go straight to the socket's event loop; the
/// rest queues for the connection's serving task (see `BlockSender`), and while anything is
/// queued there, messages queue behind it, so the peer sees them in the order sent.
/// The connection counts bytes the torrent samples for rates.
final class PeerLink: Sendable {
    let outgoing: AsyncStream<Outgoing>
    private let continuation: AsyncStream<Outgoing>.Continuation
    let channel: any Channel
    let context: PeerContext
    /// Items handed to the serving task or the event loop and not finished: while there are
    /// any, what follows queues behind them instead of going straight to the event loop.
    let queuedItems = Atomic<Int>(0)
    /// Bumped on every choke: queued uploads from before it are dropped.
    let chokeEpoch = Atomic<Int>(0)
    let cancelled = Mutex<Set<BlockRequest>>([])
    let uploadedBytes = Atomic<Int64>(0)
    /// Bytes of messages handed to the socket and not written yet: what a peer that asks for
    /// replies (metadata) and does not read them would pile up in our memory.
    let unsentBytes = Atomic<Int>(0)
    let queuedUploads = Atomic<Int>(0)
    /// The peer speaks the fast extension: requests we drop are rejected out loud (BEP 6).
    let fast = Atomic<Bool>(false)
    /// Pieces it may still request while choked (its allowed fast set), as piece numbers.
    let allowedWhileChoked = Mutex<Set<Int>>([])

    /// RC4 runs under it (see `MSEHandler`).
    let encrypted: Bool
    /// Carried by uTP (the Peers tab's `T`, as Transmission shows it).
    let utp: Bool

    init(channel: any Channel, context: PeerContext, encrypted: Bool = false, utp: Bool = false) {
        self.utp = utp
        self.channel = channel
        self.context = context
        self.encrypted = encrypted
        (outgoing, continuation) = AsyncStream.makeStream(of: Outgoing.self)
    }

    func send(_ message: PeerMessage) { send([message]) }

    /// Several messages in one write (a batch of requests is one system call, not dozens),
    /// from the torrent's actor without a hop through the connection's task when nothing is
    /// queued there: one thread hand-off (to the event loop) per batch of requests, not two.
    func send(_ messages: [PeerMessage]) {
        guard !messages.isEmpty else { return }
        var buffer = channel.allocator.buffer(capacity: messages.count * 17)
        for message in messages { buffer.writeBytes(message.encoded) }
        unsentBytes.add(buffer.readableBytes, ordering: .relaxed)
        if queuedItems.load(ordering: .relaxed) == 0 {
            write(buffer)
        } else {
            queuedItems.add(1, ordering: .relaxed)
            continuation.yield(.bytes(buffer))
        }
    }

    /// Writes messages counted in `unsentBytes`, and uncounts them once written.
    func write(_ buffer: ByteBuffer) {
        let count = buffer.readableBytes
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenComplete { _ in self.unsentBytes.subtract(count, ordering: .relaxed) }
        channel.writeAndFlush(buffer, promise: written)
    }

    func serve(_ blocks: [BlockRequest]) {
        queuedUploads.add(blocks.count, ordering: .relaxed)
        let epoch = chokeEpoch.load(ordering: .relaxed)
        // Allowed fast pieces survive a choke: they are served whatever the epoch.
        let uploads = allowedWhileChoked.withLock { allowed in
            blocks.map { Upload(block: $0, epoch: allowed.contains($0.piece.value) ? -1 : epoch) }
        }
        // Straight to the event loop when nothing is queued before it, no upload cap applies,
        // the socket has room and the batch is small; otherwise the serving task takes it.
        let direct = queuedItems.load(ordering: .relaxed) == 0 && uploads.count <= BlockSender.largestDirectBatch
            && channel.isWritable && !context.uploadIsCapped
        queuedItems.add(1, ordering: .relaxed)
        if direct {
            channel.eventLoop.execute { BlockSender.sendAtOnce(uploads, link: self) }
        } else {
            continuation.yield(.blocks(uploads))
        }
    }

    /// Hands blocks to the connection's serving task.
    func queue(_ uploads: [Upload]) {
        queuedItems.add(1, ordering: .relaxed)
        continuation.yield(.blocks(uploads))
    }

    func choke() {
        chokeEpoch.add(1, ordering: .relaxed)
        cancelled.withLock { $0.removeAll() }
        send(.choke)
    }

    /// Ends the connection: the serving task stops and the connection closes.
    func close() { continuation.finish() }
}
