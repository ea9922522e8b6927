import ShoalCore
import Synchronization

/// What the torrent asks a connection to send.
enum PeerOutbound: Sendable {
    case message(PeerMessage)
    /// Several messages sent with one write (a batch of requests is one system call, not dozens).
    case messages([PeerMessage])
    /// Read the blocks from disk and send them, except those the peer cancelled or asked for
    /// before a choke (an older epoch).
    case serve([Upload])
}

/// A block to upload, stamped with the choke epoch it was asked in (-1: allowed fast, always served).
struct Upload: Sendable {
    let block: BlockRequest
    let epoch: Int
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
    /// The peer speaks the fast extension: requests we drop are rejected out loud (BEP 6).
    let fast = Atomic<Bool>(false)
    /// Pieces it may still request while choked (its allowed fast set), as piece numbers.
    let allowedWhileChoked = Mutex<Set<Int>>([])

    init() {
        (outbox, continuation) = AsyncStream.makeStream(of: PeerOutbound.self)
    }

    func send(_ message: PeerMessage) { continuation.yield(.message(message)) }

    func send(_ messages: [PeerMessage]) {
        guard !messages.isEmpty else { return }
        continuation.yield(messages.count == 1 ? .message(messages[0]) : .messages(messages))
    }

    func serve(_ blocks: [BlockRequest]) {
        queuedUploads.add(blocks.count, ordering: .relaxed)
        let epoch = chokeEpoch.load(ordering: .relaxed)
        // Allowed fast pieces survive a choke: they are served whatever the epoch.
        let uploads = allowedWhileChoked.withLock { allowed in
            blocks.map { Upload(block: $0, epoch: allowed.contains($0.piece.value) ? -1 : epoch) }
        }
        continuation.yield(.serve(uploads))
    }

    func choke() {
        chokeEpoch.add(1, ordering: .relaxed)
        cancelled.withLock { $0.removeAll() }
        send(.choke)
    }

    /// Ends the connection: the writer drains what is queued and the connection closes.
    func close() { continuation.finish() }
}
