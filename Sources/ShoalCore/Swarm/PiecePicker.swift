/// Decides which blocks to request from which peer. Pure: fed events, returns decisions.
///
/// Order of preference (BEP 3 practice, as libtorrent and Transmission do it):
/// 1. blocks of pieces already started, most complete first — partial pieces waste memory and
///    cannot be shared until done;
/// 2. a new piece: at random for the first `randomFirstPieces` (something to trade quickly),
///    then the rarest in the swarm, highest priority first, ties broken at random;
/// 3. endgame: when every missing block is already requested, ask a second peer for blocks
///    still in flight, and cancel the duplicates when one arrives.
///
/// States of a block: open → requested (by one or more peers) → received; a piece whose blocks are
/// all received waits for its hash check, then becomes `have` or goes back to all-open.
///
/// Parole (as libtorrent does it): a peer that sent part of a piece which failed its hash, with
/// others, gets only whole pieces of its own from then on, which nobody else joins. Its next
/// bad piece has one sender and names it; a good one clears it. So a liar is caught after at
/// most one more piece whatever the rates and timing — without parole, a liar mixed into every
/// piece of a slow download made every piece fail with several senders and was never caught.
public struct PiecePicker: Sendable {
    public typealias PeerKey = Int

    enum BlockState: Sendable, Equatable {
        case open
        case requested([PeerKey])
        case received
    }

    struct PartialPiece: Sendable {
        var blocks: [BlockState]
        /// Who sent each block, for finding the liar when the piece fails its hash.
        var senders: [PeerKey?]
        var contributors: Set<PeerKey> = []
        var receivedCount = 0
        /// A peer on parole downloading this piece alone.
        var owner: PeerKey?
        /// Blocks nobody has been asked for, kept up to date by `set` (the picker reads it per pick).
        private(set) var openCount: Int

        init(blockCount: Int) {
            blocks = [BlockState](repeating: .open, count: blockCount)
            senders = [PeerKey?](repeating: nil, count: blockCount)
            openCount = blockCount
        }

        var requestedOrReceived: Int { blocks.count - openCount }

        mutating func set(_ number: Int, _ state: BlockState) {
            if blocks[number] == .open { openCount -= 1 }
            if state == .open { openCount += 1 }
            blocks[number] = state
        }
    }

    public let geometry: TorrentGeometry
    public private(set) var have: Bitfield
    public private(set) var availability: [Int]
    private var priorities: [FilePriority]
    private var partial: [Int: PartialPiece] = [:]
    /// Pieces fully received and being hash-checked: not to be picked again meanwhile.
    private var verifying: Set<Int> = []
    private var peers: [PeerKey: Bitfield] = [:]
    /// Blocks each peer has been asked for and not yet delivered.
    private var outstanding: [PeerKey: Set<BlockRequest>] = [:]
    private var completedSinceStart = 0
    public var randomFirstPieces = 4
    /// Sequential download: new pieces in order, each file's first and last piece before the
    /// rest (a player reads a file's header and index first), instead of rarest first.
    public var sequential = false {
        didSet { if sequential != oldValue { edgePieces = sequential ? Self.edges(geometry, priorities) : [] } }
    }
    private var edgePieces: Set<Int> = []
    /// Peers that took part in a piece that failed its hash (see the type's note).
    public private(set) var parole: Set<PeerKey> = []

    public init(geometry: TorrentGeometry, have: Bitfield, filePriorities: [FilePriority]? = nil) {
        self.geometry = geometry
        self.have = have
        self.availability = [Int](repeating: 0, count: geometry.pieceCount)
        self.priorities = FilePriority.piecePriorities(
            geometry: geometry, files: filePriorities ?? [FilePriority](repeating: .normal, count: geometry.fileLengths.count))
    }

    // MARK: - What peers have

    public mutating func peerJoined(_ peer: PeerKey, has bitfield: Bitfield) {
        let onParole = parole.contains(peer)
        peerLeft(peer)
        if onParole { parole.insert(peer) }
        peers[peer] = bitfield
        for index in bitfield.setIndices { availability[index] += 1 }
        outstanding[peer] = []
    }

    public mutating func peerHas(_ peer: PeerKey, piece: PieceIndex) {
        guard var bits = peers[peer], !bits[piece] else { return }
        bits.set(piece.value)
        peers[peer] = bits
        availability[piece.value] += 1
    }

    /// Adds every piece of `bitfield` to what the peer has (a late bitfield, as aria2 sends).
    public mutating func peerHas(_ peer: PeerKey, bitfield: Bitfield) {
        guard var bits = peers[peer], bits.count == bitfield.count else { return }
        for index in bitfield.setIndices where !bits[index] {
            bits.set(index)
            availability[index] += 1
        }
        peers[peer] = bits
    }

    /// Forgets a peer and puts the blocks it was asked for back in the pool.
    public mutating func peerLeft(_ peer: PeerKey) {
        if let bits = peers.removeValue(forKey: peer) {
            for index in bits.setIndices { availability[index] -= 1 }
        }
        release(peer)
        outstanding.removeValue(forKey: peer)
        parole.remove(peer)
    }

    /// The peer choked us or was snubbed: its requests will not be answered. Pieces it was
    /// downloading alone on parole start again from nothing: nobody else may finish them.
    public mutating func release(_ peer: PeerKey) {
        for block in outstanding[peer] ?? [] { unrequest(block, by: peer) }
        outstanding[peer] = []
        for (index, piece) in partial where piece.owner == peer && !verifying.contains(index) { partial[index] = nil }
    }

    /// Puts peers on parole: whole pieces only, alone.
    /// Its requests on shared pieces go back to the pool (blocks still in flight from it are
    /// refused when they come).
    public mutating func putOnParole(_ keys: some Sequence<PeerKey>) {
        for key in keys where peers[key] != nil && !parole.contains(key) {
            release(key)
            parole.insert(key)
        }
    }

    public func outstandingCount(_ peer: PeerKey) -> Int { outstanding[peer]?.count ?? 0 }
    /// Requests in flight with all peers (a block asked of two peers counts twice).
    public var totalOutstanding: Int { outstanding.values.reduce(0) { $0 + $1.count } }
    public func outstandingBlocks(_ peer: PeerKey) -> Set<BlockRequest> { outstanding[peer] ?? [] }

    public func peerBitfield(_ peer: PeerKey) -> Bitfield? { peers[peer] }

    /// True if the peer has any piece we want and lack.
    public func isInteresting(_ peer: PeerKey) -> Bool {
        guard let bits = peers[peer] else { return false }
        // Asked for every peer on every verified piece: stop at the first, allocate nothing.
        for index in 0..<bits.count where bits[index] && !have[index] && priorities[index] > .skip { return true }
        return false
    }

    // MARK: - Priorities

    public mutating func setFilePriorities(_ files: [FilePriority]) {
        priorities = FilePriority.piecePriorities(geometry: geometry, files: files)
        if sequential { edgePieces = Self.edges(geometry, priorities) }
    }

    /// The first and last piece of every file with bytes in wanted pieces.
    static func edges(_ geometry: TorrentGeometry, _ priorities: [FilePriority]) -> Set<Int> {
        var out: Set<Int> = []
        for file in geometry.fileLengths.indices {
            let pieces = geometry.pieces(ofFile: file)
            guard let first = pieces.first, let last = pieces.last else { continue }
            if priorities[first] > .skip { out.insert(first) }
            if priorities[last] > .skip { out.insert(last) }
        }
        return out
    }

    public func priority(of piece: PieceIndex) -> FilePriority { priorities[piece.value] }

    /// Every piece the user wants is verified (skipped files excluded).
    public var isDone: Bool {
        for index in 0..<geometry.pieceCount where !have[index] && priorities[index] > .skip { return false }
        return true
    }

    public var wantedRemainingBytes: Int64 {
        var total: Int64 = 0
        for piece in geometry.allPieces where !have[piece] && priorities[piece.value] > .skip {
            total += Int64(geometry.length(of: piece))
        }
        return total
    }

    // MARK: - Picking

    /// Up to `count` new requests for `peer`, marked as requested; only from the pieces in
    /// `only` when given (a peer that chokes us but allows those, BEP 6), and none of the
    /// pieces in `excluding` (ones it refused lately).
    public mutating func pick(for peer: PeerKey, count: Int, only: Set<Int>? = nil, excluding: Set<Int> = [],
                              using rng: inout some RandomNumberGenerator) -> [BlockRequest] {
        guard count > 0, var bits = peers[peer] else { return [] }
        if let only {
            var allowed = Bitfield(count: bits.count)
            for index in only where index >= 0 && index < bits.count && bits[index] { allowed.set(index) }
            bits = allowed
        }
        for index in excluding where index >= 0 && index < bits.count { bits.clear(index) }
        var picked: [BlockRequest] = []
        let onParole = parole.contains(peer)

        // 1. Partial pieces the peer has, most advanced first. Called for every block that
        // arrives, so a linear pass for the best piece, not a sort; each pass empties a piece.
        while picked.count < count, let index = mostAdvancedOpenPiece(in: bits, for: peer, onParole: onParole) {
            takeOpenBlocks(of: index, for: peer, limit: count - picked.count, into: &picked)
        }
        // 2. New pieces.
        while picked.count < count, let index = choosePiece(for: bits, using: &rng) {
            var piece = PartialPiece(blockCount: geometry.blockCount(of: geometry.piece(index)!))
            if onParole { piece.owner = peer }
            partial[index] = piece
            takeOpenBlocks(of: index, for: peer, limit: count - picked.count, into: &picked)
        }
        // 3. Endgame: duplicate requests for blocks in flight elsewhere (never on a piece a
        // peer on parole downloads alone, and never by one).
        if picked.count < count && isEndgame && !onParole {
            let started = partial.keys.filter { bits[$0] && !verifying.contains($0) && partial[$0]!.owner == nil }
                .sorted { (partial[$0]!.requestedOrReceived, -$0) > (partial[$1]!.requestedOrReceived, -$1) }
            for index in started {
                for number in partial[index]!.blocks.indices where picked.count < count {
                    guard case .requested(let askers) = partial[index]!.blocks[number], !askers.contains(peer), askers.count < 3
                    else { continue }
                    let block = geometry.block(number, of: geometry.piece(index)!)
                    partial[index]!.set(number, .requested(askers + [peer]))
                    outstanding[peer, default: []].insert(block)
                    picked.append(block)
                }
            }
        }
        return picked
    }

    /// The started piece with open blocks that the peer has, most requested or received first
    /// (lowest index on a tie, for a stable order). A peer on parole continues only its own.
    private func mostAdvancedOpenPiece(in bits: Bitfield, for peer: PeerKey, onParole: Bool) -> Int? {
        var best: (index: Int, done: Int)?
        for (index, piece) in partial where piece.openCount > 0 && bits[index] && (onParole ? piece.owner == peer : piece.owner == nil) {
            let done = piece.requestedOrReceived
            if best == nil || done > best!.done || (done == best!.done && index < best!.index) { best = (index, done) }
        }
        return best?.index
    }

    /// No block of a wanted piece is left open: every missing one is in flight.
    public var isEndgame: Bool {
        for index in 0..<geometry.pieceCount where !have[index] && priorities[index] > .skip && !verifying.contains(index) {
            guard let piece = partial[index] else { return false }
            if piece.openCount > 0 { return false }
        }
        return true
    }

    private mutating func takeOpenBlocks(of index: Int, for peer: PeerKey, limit: Int, into picked: inout [BlockRequest]) {
        guard partial[index] != nil else { return }
        var taken = 0
        // Changed in place through the dictionary: a copy out and back would copy its arrays.
        for number in partial[index]!.blocks.indices where taken < limit && partial[index]!.blocks[number] == .open {
            let block = geometry.block(number, of: geometry.piece(index)!)
            partial[index]!.set(number, .requested([peer]))
            outstanding[peer, default: []].insert(block)
            picked.append(block)
            taken += 1
        }
    }

    private func choosePiece(for bits: Bitfield, using rng: inout some RandomNumberGenerator) -> Int? {
        let count = geometry.pieceCount
        guard count > 0 else { return nil }
        let randomMode = completedSinceStart < randomFirstPieces
        var best: Int?
        var bestKey = (priority: -1, availability: Int.max)
        // Among equals, the first after a random starting point: peers spread over the pieces
        // as with a uniform draw, for one random number per choice. A draw per tie (reservoir
        // sampling) cost a random number for nearly every piece, on every new piece started.
        let start = Int(rng.next() % UInt64(count))
        for step in 0..<count {
            let index = start + step < count ? start + step : start + step - count
            guard bits[index], !have[index], partial[index] == nil, !verifying.contains(index) else { continue }
            let priority = priorities[index].rank
            guard priority > 0 else { continue }
            // Sequential: the lowest "availability" wins, so rank edges first, then by index.
            let rank = sequential ? (edgePieces.contains(index) ? index - count : index) : randomMode ? 0 : availability[index]
            let key = (priority: priority, availability: rank)
            if key.priority > bestKey.priority || (key.priority == bestKey.priority && key.availability < bestKey.availability) {
                best = index
                bestKey = key
            }
        }
        return best
    }

    // MARK: - Arrivals

    public struct Arrival: Sendable, Equatable {
        /// False for a block we did not ask for or already have: drop the data.
        public var accepted: Bool
        /// Other peers asked for the same block (endgame): send them `cancel`.
        public var cancels: [(peer: PeerKey, block: BlockRequest)]
        /// Every block of the piece is in: hash it.
        public var pieceComplete: Bool

        public static func == (a: Arrival, b: Arrival) -> Bool {
            a.accepted == b.accepted && a.pieceComplete == b.pieceComplete
                && a.cancels.map(\.peer) == b.cancels.map(\.peer) && a.cancels.map(\.block) == b.cancels.map(\.block)
        }
    }

    public mutating func received(_ block: BlockRequest, from peer: PeerKey) -> Arrival {
        let index = block.piece.value
        outstanding[peer]?.remove(block)
        guard partial[index] != nil, block.offset % TorrentGeometry.blockLength == 0,
            block == geometry.block(block.offset / TorrentGeometry.blockLength, of: block.piece)
        else { return Arrival(accepted: false, cancels: [], pieceComplete: false) }
        let number = block.offset / TorrentGeometry.blockLength
        // A piece downloaded alone on parole takes blocks from its owner only, and a peer on
        // parole adds to no other piece (a late block after its piece was reset).
        let owner = partial[index]!.owner
        guard owner == nil ? !parole.contains(peer) : owner == peer else {
            return Arrival(accepted: false, cancels: [], pieceComplete: false)
        }
        var cancels: [(PeerKey, BlockRequest)] = []
        switch partial[index]!.blocks[number] {
        case .received:
            return Arrival(accepted: false, cancels: [], pieceComplete: false)
        case .requested(let askers):
            for other in askers where other != peer {
                outstanding[other]?.remove(block)
                cancels.append((other, block))
            }
        case .open:
            break  // arrived after we gave up on the peer; still good data
        }
        let complete = Self.receive(number, from: peer, into: &partial[index]!)
        if complete { verifying.insert(index) }
        return Arrival(accepted: true, cancels: cancels, pieceComplete: complete)
    }

    /// Marks a block received; true when it was the piece's last.
    private static func receive(_ number: Int, from peer: PeerKey, into piece: inout PartialPiece) -> Bool {
        piece.set(number, .received)
        piece.senders[number] = peer
        piece.receivedCount += 1
        piece.contributors.insert(peer)
        return piece.receivedCount == piece.blocks.count
    }

    /// The peer refused a request (fast extension) or we cancelled it.
    public mutating func unrequest(_ block: BlockRequest, by peer: PeerKey) {
        outstanding[peer]?.remove(block)
        let index = block.piece.value
        let number = block.offset / TorrentGeometry.blockLength
        guard number < partial[index]?.blocks.count ?? 0, case .requested(var askers) = partial[index]!.blocks[number] else { return }
        askers.removeAll { $0 == peer }
        partial[index]!.set(number, askers.isEmpty ? .open : .requested(askers))
    }

    /// The piece hashed correctly. Returns the peers that sent parts of it.
    @discardableResult
    public mutating func pieceVerified(_ piece: PieceIndex) -> Set<PeerKey> {
        verifying.remove(piece.value)
        let done = partial.removeValue(forKey: piece.value)
        let contributors = done?.contributors ?? []
        // A good piece of its own ends a peer's parole; pieces it still has under way become
        // ordinary ones (they hold its blocks only).
        if let owner = done?.owner, parole.remove(owner) != nil {
            for (index, piece) in partial where piece.owner == owner { partial[index]!.owner = nil }
        }
        have.set(piece.value)
        completedSinceStart += 1
        return contributors
    }

    /// The piece failed its hash: all its blocks go back to open. Returns who sent each block.
    public mutating func pieceFailed(_ piece: PieceIndex) -> [PeerKey?] {
        verifying.remove(piece.value)
        let senders = partial.removeValue(forKey: piece.value)?.senders ?? []
        for peer in outstanding.keys {
            outstanding[peer] = outstanding[peer]?.filter { $0.piece != piece }
        }
        return senders
    }

    /// The disk no longer holds these pieces (their file was deleted): they are missing again.
    public mutating func piecesLost(_ pieces: some Sequence<Int>) {
        for index in pieces where index >= 0 && index < geometry.pieceCount { have.clear(index) }
    }

    /// Peers that sent blocks of pieces not yet checked: who may still be blamed for one.
    public var senderKeys: Set<PeerKey> {
        var keys = Set<PeerKey>()
        for piece in partial.values { keys.formUnion(piece.contributors) }
        return keys
    }

    /// Pieces started but not finished (for the piece map's "downloading" state).
    public var piecesInProgress: [Int] { Array(partial.keys).sorted() }
}
