import ShoalCore
import Synchronization

/// What the torrent asks a connection to send.
enum PeerOutbound: Sendable {
    case message(PeerMessage)
    /// Read the block from disk and send it, unless the peer was choked (a newer epoch) or cancelled it.
    case serve(BlockRequest, epoch: Int)
}

/// The shared line between a torrent (which decides) and a connection task (which does the I/O).
/// The torrent queues messages; the connection counts bytes the torrent samples for rates.
final class PeerLink: Sendable {
    let outbox: AsyncStream<PeerOutbound>
    private let continuation: AsyncStream<PeerOutbound>.Continuation
    /// Bumped on every choke: queued uploads from before it are dropped.
    let chokeEpoch = Atomic<Int>(0)
    let cancelled = Mutex<Set<BlockRequest>>([])
    let uploadedBytes = Atomic<Int64>(0)
    let queuedUploads = Atomic<Int>(0)

    init() {
        (outbox, continuation) = AsyncStream.makeStream(of: PeerOutbound.self)
    }

    func send(_ message: PeerMessage) { continuation.yield(.message(message)) }

    func serve(_ block: BlockRequest) {
        queuedUploads.add(1, ordering: .relaxed)
        continuation.yield(.serve(block, epoch: chokeEpoch.load(ordering: .relaxed)))
    }

    func choke() {
        chokeEpoch.add(1, ordering: .relaxed)
        cancelled.withLock { $0.removeAll() }
        send(.choke)
    }

    /// Ends the connection: the writer drains what is queued and the connection closes.
    func close() { continuation.finish() }
}
