import Crypto
import NIOPosix
import ShoalCore
import Synchronization

/// Writes downloaded blocks to disk as they arrive and checks each piece's hash when its last
/// block is in, on the I/O pool, one item at a time and in order.
///
/// Blocks are not gathered into whole pieces in memory: with twenty fast peers each filling its
/// own pieces, that held 20–40 MiB (more with larger pieces). The hash is fed with the blocks
/// that arrive in order; what came out of order is read back from the page cache at the end.
/// Verified data is only ever marked `have` after its hash matched, so resume data and peers
/// never see a piece before it is checked.
final class PieceWriter: Sendable {
    enum Item: Sendable {
        case block(PieceIndex, offset: Int, data: [UInt8])
        /// All blocks are in: hash what is left. `keep`: return the piece's bytes with the outcome.
        case complete(PieceIndex, keep: Bool)
    }

    struct Outcome: Sendable {
        let piece: PieceIndex
        /// Matches its hash; or the disk failed.
        let result: Result<Bool, StorageError>
        /// The piece as written: when asked to keep it, and always when it failed the hash (to
        /// find the peer that lied, block by block).
        let data: [UInt8]?
    }

    private struct Queue {
        var items: [Item] = []
        var draining = false
        var closed = false
        /// `finish()` callers waiting for the drain in progress to end.
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// A piece's hash so far: fed with its blocks while they arrive in order.
    private struct Running {
        var hasher = Insecure.SHA1()
        var hashedUpTo = 0
    }

    private let storage: FileStorage
    private let info: InfoDictionary
    private let pool: NIOThreadPool
    private let queue = Mutex(Queue())
    /// Touched only by the one drain running at a time.
    private let running = Mutex<[Int: Running]>([:])
    /// Bytes handed in and not yet written: what a download holds in memory for the disk.
    let queuedBytes = Atomic<Int>(0)
    let outcomes: AsyncStream<Outcome>
    private let outcomeContinuation: AsyncStream<Outcome>.Continuation

    init(storage: FileStorage, info: InfoDictionary, pool: NIOThreadPool) {
        self.storage = storage
        self.info = info
        self.pool = pool
        (outcomes, outcomeContinuation) = AsyncStream.makeStream(of: Outcome.self)
    }

    func enqueue(_ item: Item) {
        if case .block(_, _, let data) = item { queuedBytes.add(data.count, ordering: .relaxed) }
        let start = queue.withLock { queue -> Bool in
            guard !queue.closed else { return false }
            queue.items.append(item)
            defer { queue.draining = true }
            return !queue.draining
        }
        if start { pool.submit { [self] _ in drain() } }
    }

    /// No more writes: what is still queued is dropped (the torrent stopped or was removed).
    func close() {
        queue.withLock { queue in
            queue.closed = true
            queue.items.removeAll()
        }
        outcomeContinuation.finish()
    }

    /// Closes, then waits until no write is under way: after it, the files hold everything they
    /// ever will from this writer, so resume data recorded then stays true (a write landing
    /// after it would change a file's time and cost that file a recheck on the next start).
    func finish() async {
        close()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = queue.withLock { queue -> Bool in
                if !queue.draining { return true }
                queue.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    private func drain() {
        while true {
            let (batch, waiters) = queue.withLock { queue -> ([Item], [CheckedContinuation<Void, Never>]) in
                defer { queue.items.removeAll(keepingCapacity: true) }
                guard queue.items.isEmpty || queue.closed else { return (queue.items, []) }
                queue.draining = false
                defer { queue.idleWaiters.removeAll() }
                return ([], queue.idleWaiters)
            }
            for waiter in waiters { waiter.resume() }
            if batch.isEmpty { return }
            var run: [(offset: Int, data: [UInt8])] = []
            var runPiece: PieceIndex?
            for item in batch {
                // Blocks that follow each other in one piece go to disk in one write.
                if case .block(let piece, let offset, let data) = item, piece == runPiece || run.isEmpty,
                    run.last.map({ $0.offset + $0.data.count == offset }) ?? true, run.count < Self.blocksPerWrite {
                    runPiece = piece
                    run.append((offset, data))
                    continue
                }
                if let runPiece { write(run, of: runPiece) }
                run = []
                runPiece = nil
                switch item {
                case .block(let piece, let offset, let data):
                    runPiece = piece
                    run = [(offset, data)]
                case .complete(let piece, let keep):
                    complete(piece, keep: keep)
                }
            }
            if let runPiece { write(run, of: runPiece) }
        }
    }

    /// Up to 1 MiB per write.
    static let blocksPerWrite = 64

    /// Writes contiguous blocks of one piece, then feeds the piece's hash the ones in order.
    private func write(_ run: [(offset: Int, data: [UInt8])], of piece: PieceIndex) {
        let bytes = run.reduce(0) { $0 + $1.data.count }
        defer { queuedBytes.subtract(bytes, ordering: .relaxed) }
        do {
            let start = storage.geometry.offset(of: piece) + Int64(run[0].offset)
            try storage.write(offset: start, blocks: run.map(\.data))
        } catch {
            running.withLock { _ = $0.removeValue(forKey: piece.value) }
            outcomeContinuation.yield(Outcome(piece: piece, result: .failure(error), data: nil))
            return
        }
        running.withLock { states in
            for (offset, data) in run {
                // A piece's first block starts its hash afresh, whatever an earlier, abandoned
                // round of the same piece left.
                var state = offset == 0 ? Running() : states[piece.value] ?? Running()
                if offset == state.hashedUpTo {
                    state.hasher.update(data: data)
                    state.hashedUpTo += data.count
                }
                states[piece.value] = state
            }
        }
    }

    private func complete(_ piece: PieceIndex, keep: Bool) {
        do throws(StorageError) {
            var state = running.withLock { $0.removeValue(forKey: piece.value) } ?? Running()
            let length = storage.geometry.length(of: piece)
            let good: Bool
            // A v2 piece is checked by its hash tree, read back whole (from the page cache), once.
            var readBack: [UInt8]?
            if info.v2?.isOnly == true {
                readBack = try storage.read(piece: piece)
                good = info.pieceMatches(readBack!, piece)
            } else {
                if state.hashedUpTo < length {
                    let rest = try storage.read(offset: storage.geometry.offset(of: piece) + Int64(state.hashedUpTo),
                                                length: length - state.hashedUpTo)
                    state.hasher.update(data: rest)
                }
                good = Array(state.hasher.finalize()) == Array(info.hash(of: piece))
            }
            // Hashed through a descriptor of a file deleted meanwhile, the piece would check out
            // while the disk no longer holds it.
            if good, let gone = storage.vanished(files: storage.geometry.fileSpans(of: piece).map(\.file)) {
                throw StorageError(gone)
            }
            var data: [UInt8]?
            if keep || !good { data = readBack }
            if (keep || !good) && data == nil { data = try storage.read(piece: piece) }
            outcomeContinuation.yield(Outcome(piece: piece, result: .success(good), data: data))
        } catch {
            outcomeContinuation.yield(Outcome(piece: piece, result: .failure(error), data: nil))
        }
    }
}
