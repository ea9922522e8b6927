import ShoalCore

/// A torrent's web seeds (BEP 19): each server is a source that has every piece, asked for
/// runs of blocks the picker chooses for it, as libtorrent treats them — so the swarm and the
/// servers share the work, rarest first. Blocks are received, verified and blamed like a
/// peer's: a server whose data fails the hash check is dropped. Each request is a job of the
/// run (see `RuntimeJob.webSeed`), started by the tick while the torrent downloads.
final class WebSeeding {
    var schedule: WebSeedSchedule
    /// Made at a server's first request (each holds a URL per file).
    var layouts: [Int: WebSeedLayout] = [:]
    /// Each server's key in the picker, and the id that stands for it in blame for bad data.
    let keys: [Int]
    let ids: [PeerID]
    var meters: [RateMeter]
    /// Servers joined to the current picker (a new run makes a new picker).
    var joined: Set<Int> = []

    /// nil when the torrent lists no http(s) server.
    init?(urls: [String], now: ContinuousClock.Instant) {
        schedule = WebSeedSchedule(urls: urls)
        guard !schedule.isEmpty else { return nil }
        let count = schedule.servers.count
        // Below zero: connections' keys count up from one.
        keys = (1...count).map { -$0 }
        var rng = SystemRandomNumberGenerator()
        ids = (0..<count).map { _ in PeerID(bytes: Array("-WS0000-".utf8) + (0..<12).map { _ in UInt8.random(in: 97...122, using: &rng) })! }
        meters = Array(repeating: RateMeter(origin: now), count: count)
    }

    func index(of id: PeerID) -> Int? { ids.firstIndex(of: id) }
}

/// One request: the blocks asked for and the parts (GETs) that carry them, in order.
struct WebSeedRequest: Sendable {
    let blocks: [BlockRequest]
    let parts: [WebSeedLayout.Part]
}

extension TorrentRuntime {
    /// Starts a request for each free connection of each server that may be asked now.
    func startWebSeedsIfDue(now: ContinuousClock.Instant) {
        guard let webSeeding, activity == .downloading, !isStopping, picker != nil else { return }
        for index in webSeeding.schedule.due(now: now) {
            webSeeding.schedule.opened(index)
            jobQueue.submit(.webSeed(index))
        }
    }

    /// One connection's life: requests one after another while the picker has blocks for the
    /// server and it answers.
    func webSeedConnection(_ index: Int) async {
        defer {
            webSeeding?.schedule.closed(index)
            noteChange()
        }
        let limiters = [downloadLimiter, globalDownload]
        while !Task.isCancelled, let request = takeWebSeedRequest(index) {
            let outcome = await WebSeedFetch.fetch(request.parts, limiters: limiters)
            guard deliver(outcome, of: request, from: index) else { return }
        }
    }

    /// The blocks the picker gives the server now, as GETs; nil when there is nothing to ask.
    private func takeWebSeedRequest(_ index: Int) -> WebSeedRequest? {
        guard let webSeeding, activity == .downloading, !isStopping, picker != nil, pendingWriteBytes < Self.pendingWriteLimit,
            webSeeding.schedule.servers[index].droppedFor == nil
        else { return nil }
        let key = webSeeding.keys[index]
        if webSeeding.joined.insert(index).inserted {
            var all = Bitfield(count: metainfo.info.pieceCount)
            for piece in 0..<all.count { all.set(piece) }
            picker?.peerJoined(key, has: all)
            peerIDsByKey[key] = webSeeding.ids[index]
        }
        // About two seconds of what the server gave lately: at least a piece (256 KiB when
        // pieces are small), at most 4 MiB.
        let block = TorrentGeometry.blockLength
        let rate = webSeeding.meters[index].rate(now: .now)
        let floor = max(metainfo.info.pieceLength, 256 << 10) / block
        let count = min(256, max(floor, Int(rate * 2) / block))
        guard let blocks = picker?.pick(for: key, count: count, using: &rng), !blocks.isEmpty else { return nil }
        let layout = webSeeding.layouts[index] ?? WebSeedLayout(baseURL: webSeeding.schedule.servers[index].url, info: metainfo.info,
                                                                rawInfo: metainfo.rawInfo)
        webSeeding.layouts[index] = layout
        // One run of adjacent blocks per request, the first: the rest go back to the pool. (A
        // request of several runs went on asking a server dropped meanwhile, run after run.)
        let geometry = metainfo.info.geometry
        let ordered = blocks.sorted { ($0.piece.value, $0.offset) < ($1.piece.value, $1.offset) }
        let start = geometry.offset(of: ordered[0].piece) + Int64(ordered[0].offset)
        var end = start
        var run: [BlockRequest] = []
        for block in ordered {
            if geometry.offset(of: block.piece) + Int64(block.offset) == end {
                run.append(block)
                end += Int64(block.length)
            } else {
                picker?.unrequest(block, by: key)
            }
        }
        return WebSeedRequest(blocks: run, parts: layout.parts(start..<end))
    }

    /// Takes in what a request brought; false when the connection should end.
    private func deliver(_ outcome: WebSeedFetch.Outcome, of request: WebSeedRequest, from index: Int) -> Bool {
        guard let webSeeding else { return false }
        let key = webSeeding.keys[index]
        guard case .bytes(let bytes) = outcome, webSeeding.schedule.servers[index].droppedFor == nil,
            webSeeding.joined.contains(index)
        else {
            if webSeeding.joined.contains(index) { for block in request.blocks { picker?.unrequest(block, by: key) } }
            if case .failed(let answer) = outcome { webSeedFailed(index, answer) }
            return false
        }
        let now = ContinuousClock.now
        webSeeding.schedule.received(index, bytes: bytes.count)
        webSeeding.meters[index].add(bytes.count, now: now)
        var offset = 0
        for block in request.blocks {
            receiveBlock(block, data: Array(bytes[offset..<offset + block.length]), from: key)
            offset += block.length
        }
        return true
    }

    private func webSeedFailed(_ index: Int, _ answer: WebSeedAnswer) {
        guard let webSeeding else { return }
        let url = webSeeding.schedule.servers[index].url
        switch answer {
        case .retry(let reason, let retryAfter):
            let wait = webSeeding.schedule.failed(index, reason: reason, retryAfter: retryAfter, now: .now)
            logger.info("web seed failed, retried in \(wait)", metadata: ["url": "\(url)", "reason": "\(reason)"])
        case .drop(let reason):
            dropWebSeed(index, reason: reason)
        case .data, .redirect:
            break
        }
    }

    /// Stops using a server, with the reason the Peers tab and the log show.
    func dropWebSeed(_ index: Int, reason: String) {
        guard let webSeeding, webSeeding.schedule.servers[index].droppedFor == nil else { return }
        webSeeding.schedule.drop(index, reason: reason)
        if webSeeding.joined.remove(index) != nil { picker?.peerLeft(webSeeding.keys[index]) }
        logger.notice("web seed dropped", metadata: ["url": "\(webSeeding.schedule.servers[index].url)", "reason": "\(reason)"])
        noteChange()
    }

    /// Complete: the servers leave the picker, so seeding does not count them as sources.
    func webSeedsLeavePicker() {
        guard let webSeeding else { return }
        for index in webSeeding.joined { picker?.peerLeft(webSeeding.keys[index]) }
        webSeeding.joined = []
    }

    var webSeedKeys: [Int] { webSeeding?.keys ?? [] }
    var webSeedsInFlight: Int { webSeeding?.schedule.inFlight ?? 0 }

    /// The servers as the Peers tab and remotes show them.
    func webSeedSnapshots(now: ContinuousClock.Instant) -> [WebSeedSnapshot] {
        guard let webSeeding else { return [] }
        return webSeeding.schedule.servers.indices.map { index in
            var meter = webSeeding.meters[index]
            return WebSeedSnapshot(server: webSeeding.schedule.servers[index], downloadRate: meter.rate(now: now))
        }
    }
}
