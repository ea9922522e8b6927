import Logging
import ShoalCore

/// Announcing to a torrent's trackers, for a torrent and a magnet's metadata phase alike: BEP 12
/// tiers (see `TrackerTiers`), a failing tier falling through to the next, each request waiting
/// its turn at the session's `TrackerGate`, each tracker's state kept for the interface. When to
/// announce is the owner's `AnnounceSchedule`.
protocol TieredAnnouncer: Actor {
    var trackers: TrackerTiers { get set }
    var rng: SplitMix64 { get set }
    var trackerGate: TrackerGate { get }
    var config: EngineConfig { get }
    var logger: Logger { get }
    func announceRequest(_ event: AnnounceRequest.Event) -> AnnounceRequest
    /// A tracker's answer named these peers (taken as each answer comes, not after every tier).
    func trackerGavePeers(_ peers: [PeerAddress])
    /// A second info-hash announced beside the first (a hybrid's v2 hash, BEP 52), or nil.
    var secondInfoHash: InfoHash? { get }
}

extension TieredAnnouncer {
    /// Tries each tier in order, each tracker of a tier in order, until one answers.
    func announceToTiers(event: AnnounceRequest.Event) async -> AnnounceResponse? {
        let (tiers, edits) = trackers.announceOrder(using: &rng)
        for tier in tiers {
            if let response = await walk(tier, event: event, orderFrom: edits) { return response }
        }
        return nil
    }

    /// Every tier at once, each walked as above, as qBittorrent's "announce to all tiers" and
    /// Transmission do: for a magnet, which wants any peer soonest, and whose trackers are a
    /// tier each, so a dead first one (a UDP tracker retries for minutes) holds up no other.
    /// One answer for the schedule (see `AnnounceResponse.merged`).
    func announceToEveryTier(event: AnnounceRequest.Event) async -> AnnounceResponse? {
        let (tiers, edits) = trackers.announceOrder(using: &rng)
        let answers = await withTaskGroup(of: AnnounceResponse?.self) { group in
            for tier in tiers { group.addTask { await self.walk(tier, event: event, orderFrom: edits) } }
            var answers: [AnnounceResponse] = []
            for await answer in group { if let answer { answers.append(answer) } }
            return answers
        }
        return AnnounceResponse.merged(answers)
    }

    /// The tier's trackers in turn until one answers.
    private func walk(_ tier: [String], event: AnnounceRequest.Event, orderFrom edits: Int) async -> AnnounceResponse? {
        for url in tier {
            if let response = await announce(to: url, event: event) {
                trackers.answered(url, orderFrom: edits)
                trackerGavePeers(response.peers)
                return response
            }
        }
        return nil
    }

    private func announce(to url: String, event: AnnounceRequest.Event) async -> AnnounceResponse? {
        var request = announceRequest(event)
        request.trackerID = trackers.ids[url]
        let now = ContinuousClock.now
        let scheme = url.lowercased()
        guard scheme.hasPrefix("http://") || scheme.hasPrefix("https://") || scheme.hasPrefix("udp://") else {
            trackers.update(url) { $0.status = "error"; $0.error = "unsupported tracker (only http://, https:// and udp://)" }
            logger.info("tracker not used: only http://, https:// and udp:// are supported", metadata: ["tracker": "\(url)"])
            return nil
        }
        // Behind other torrents' requests (thousands started at once): shown, not silent.
        if trackerGate.waiting > 0 { trackers.update(url) { $0.status = "queued" } }
        guard await trackerGate.admit() else { return nil }
        trackers.update(url) { $0.status = "announcing" }
        do throws(AnnounceResponse.Failure) {
            let response = try await TrackerExchange.announce(request, to: url, config: config)
            if let id = response.trackerID { trackers.ids[url] = id }
            trackers.update(url) {
                $0.status = response.warning.map { "working (warning: \($0))" } ?? "working"
                $0.error = nil
                $0.lastAnnounce = now
                $0.seeders = response.complete
                $0.leechers = response.incomplete
                $0.peersReturned = response.peers.count
            }
            logger.debug("announced", metadata: ["tracker": "\(url)", "event": "\(event)", "peers": "\(response.peers.count)",
                                                 "interval": "\(response.interval)"])
            await announceSecondHash(request, to: url)
            return response
        } catch {
            trackers.update(url) { $0.status = "error"; $0.error = error.trackerMessage; $0.lastAnnounce = now }
            logger.info("announce failed", metadata: ["tracker": "\(url)", "event": "\(event)", "error": "\(error.trackerMessage)"])
            return nil
        }
    }

    /// The same announce under the second info-hash, when there is one, to a tracker that just
    /// answered the first: its peers are taken, its failure only logged (the first hash's answer
    /// sets the schedule). It waits its turn at the gate like any request.
    private func announceSecondHash(_ first: AnnounceRequest, to url: String) async {
        guard let second = secondInfoHash, await trackerGate.admit() else { return }
        var request = first
        request.infoHash = second
        do throws(AnnounceResponse.Failure) {
            trackerGavePeers(try await TrackerExchange.announce(request, to: url, config: config).peers)
        } catch {
            logger.debug("announce under the v2 hash failed", metadata: ["tracker": "\(url)", "error": "\(error.trackerMessage)"])
        }
    }

    /// `stopped` to the trackers that know we are here. Best effort, bounded: a dead tracker
    /// must not hold up quitting, nor a queue of thousands of torrents' stops (one whose turn is
    /// over 3 s off is not sent; the tracker forgets us at its interval anyway).
    func sayStopped() async {
        let request = announceRequest(.stopped)
        let ids = trackers.ids
        let gate = trackerGate
        let announced = trackers.announcedTo
        await withTaskGroup(of: Void.self) { group in
            for url in announced {
                guard await gate.admit(giveUpAfter: .seconds(3)) else {
                    logger.debug("stopped not sent: other torrents' tracker requests are ahead of it", metadata: ["tracker": "\(url)"])
                    continue
                }
                for hash in [request.infoHash] + (secondInfoHash.map { [$0] } ?? []) {
                    var own = request
                    own.trackerID = ids[url]
                    own.infoHash = hash
                    if url.lowercased().hasPrefix("udp://") {
                        group.addTask {
                            _ = try? await UDPTrackerClient.announce(own, to: url, retry: .init(firstTimeout: .seconds(2), attempts: 1))
                        }
                    } else {
                        group.addTask { _ = try? await HTTPClient.fetch(own.url(announce: url), timeout: .seconds(3)) }
                    }
                }
            }
        }
    }
}

/// A torrent's announces: when (its `AnnounceSchedule`), with which event and what it has left.
extension TorrentRuntime: TieredAnnouncer {
    static let announceKey = UInt32.random(in: 1...UInt32.max)

    /// One wake of the announcer (see `wakeAnnouncer`): an announce if the schedule says one is
    /// due. The tick wakes it once a second while an announce is due, and completion, an error
    /// or a re-announce wake it at once.
    func announceRound() async {
        // No trackers (none in the torrent, or the user removed them all): nothing to do
        // until some are added.
        guard !trackers.isEmpty else { return }
        // A torrent stopped by an error leaves the swarm until the user resumes it.
        if activity == .error {
            if !saidStoppedForError { await announceStopped() }
            saidStoppedForError = true
            return
        }
        guard let event = announceSchedule.begin(now: .now) else { return }
        announceSchedule.ended(await announceToTiers(event: event), now: .now)
        trackers.setNextAnnounce(announceSchedule.nextAnnounce)
    }

    /// The user asked for peers now: the next announce goes as soon as the tracker allows.
    public func reannounce() {
        announceSchedule.reannounce(now: .now)
        wakeAnnouncer()
    }

    /// Called every tick: wakes the announcer when an announce is due.
    func wakeAnnouncerIfDue(now: ContinuousClock.Instant) {
        // No trackers: the schedule stays due for ever, and waking the loop each tick was work
        // for nothing (adding trackers wakes it: `reannounce`).
        guard !trackers.isEmpty else { return }
        if announceSchedule.due(now: now) != nil { wakeAnnouncer() }
    }

    func announceRequest(_ event: AnnounceRequest.Event) -> AnnounceRequest {
        var request = AnnounceRequest(infoHash: metainfo.infoHash, peerID: config.peerID, port: listenPort, uploaded: uploadedBytes,
                                      downloaded: downloadedBytes, left: picker?.wantedRemainingBytes ?? metainfo.info.totalLength,
                                      event: event, numwant: event == .stopped ? 0 : 50, key: Self.announceKey)
        request.ipv6 = config.announcedIPv6
        return request
    }

    func trackerGavePeers(_ peers: [PeerAddress]) { addPeers(peers) }

    nonisolated var secondInfoHash: InfoHash? { metainfo.hybridV2Alias }

    /// Before the check has run nothing was announced.
    func announceStopped() async {
        guard picker != nil else { return }
        await sayStopped()
    }
}

/// One announce to one tracker, over HTTP or UDP by the URL's scheme.
enum TrackerExchange {
    static func announce(_ request: AnnounceRequest, to url: String, config: EngineConfig) async throws(AnnounceResponse.Failure)
        -> AnnounceResponse
    {
        if url.lowercased().hasPrefix("udp://") {
            return try await UDPTrackerClient.announce(request, to: url, retry: config.udpTrackerRetry)
        }
        let reply: HTTPClient.Response
        do {
            reply = try await HTTPClient.fetch(request.url(announce: url), timeout: config.trackerTimeout)
        } catch {
            throw .malformed(error.description)
        }
        do {
            return try AnnounceResponse(httpBody: reply.body)
        } catch {
            throw reply.status == 200 || error.isRejection ? error : .malformed("HTTP \(reply.status)")
        }
    }
}

extension AnnounceResponse.Failure {
    var isRejection: Bool {
        if case .rejected = self { return true }
        return false
    }

    /// The text shown in a tracker's status: the tracker's own words, or what went wrong.
    var trackerMessage: String {
        switch self {
        case .rejected(let reason): return reason
        case .malformed(let why): return why
        }
    }
}
