import ShoalCore

/// Talking to a torrent's trackers: BEP 12 tiers (shuffled once, a tracker that answers moves to
/// the front of its tier, a failing tier falls through to the next), the tracker's interval with a
/// floor, exponential backoff while every tracker fails, `completed` as soon as the download ends.
extension TorrentRuntime {
    static let announceKey = UInt32.random(in: 1...UInt32.max)

    /// One wake of the announcer (see `wakeAnnouncer`): an announce if the schedule says one is
    /// due. The tick wakes it once a second while an announce is due, and completion, an error
    /// or a re-announce wake it at once.
    func announceRound() async {
        if announceTiers == nil || announceTiers?.edits != trackerEdits {
            announceTiers = (shuffledTrackerTiers(), trackerEdits)
        }
        // No trackers (none in the torrent, or the user removed them all): nothing to do
        // until some are added.
        guard var tiers = announceTiers?.tiers, !tiers.isEmpty else { return }
        // A torrent stopped by an error leaves the swarm until the user resumes it.
        if activity == .error {
            if !saidStoppedForError { await announceStopped() }
            saidStoppedForError = true
            return
        }
        guard let event = announceSchedule.begin(now: .now) else { return }
        let edits = trackerEdits
        let response = await announceToTiers(&tiers, event: event)
        // The order the answers taught us, unless the user edited the list meanwhile.
        if trackerEdits == edits { announceTiers = (tiers, edits) }
        let now = ContinuousClock.now
        if let response {
            announceSchedule.succeeded(interval: response.interval, minInterval: response.minInterval, now: now)
            addPeers(response.peers)
        } else {
            announceSchedule.failed(now: now)
        }
        setNextAnnounce(announceSchedule.nextAnnounce)
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
        guard !trackerTiers.isEmpty else { return }
        if announceSchedule.due(now: now) != nil { wakeAnnouncer() }
    }

    private func setNextAnnounce(_ instant: ContinuousClock.Instant?) {
        for index in trackerStates.indices { trackerStates[index].nextAnnounce = instant }
    }

    func announceRequest(_ event: AnnounceRequest.Event) -> AnnounceRequest {
        var request = AnnounceRequest(infoHash: metainfo.infoHash, peerID: config.peerID, port: listenPort, uploaded: uploadedBytes,
                                      downloaded: downloadedBytes, left: picker?.wantedRemainingBytes ?? metainfo.info.totalLength,
                                      event: event, numwant: event == .stopped ? 0 : 50, key: Self.announceKey)
        request.ipv6 = config.announcedIPv6
        return request
    }

    /// Tries each tier in order, each tracker of a tier in order, until one answers.
    func announceToTiers(_ tiers: inout [[String]], event: AnnounceRequest.Event) async -> AnnounceResponse? {
        for tierIndex in tiers.indices {
            for (position, url) in tiers[tierIndex].enumerated() {
                let result = await announce(to: url, event: event)
                if let response = result {
                    let tracker = tiers[tierIndex].remove(at: position)
                    tiers[tierIndex].insert(tracker, at: 0)
                    return response
                }
            }
        }
        return nil
    }

    private func announce(to url: String, event: AnnounceRequest.Event) async -> AnnounceResponse? {
        var request = announceRequest(event)
        request.trackerID = trackerIDs[url]
        let now = ContinuousClock.now
        let scheme = url.lowercased()
        guard scheme.hasPrefix("http://") || scheme.hasPrefix("https://") || scheme.hasPrefix("udp://") else {
            updateTracker(url) { $0.status = "error"; $0.error = "unsupported tracker (only http://, https:// and udp://)" }
            logger.info("tracker not used: only http://, https:// and udp:// are supported", metadata: ["tracker": "\(url)"])
            return nil
        }
        // Behind other torrents' requests (thousands started at once): shown, not silent.
        if trackerGate.waiting > 0 { updateTracker(url) { $0.status = "queued" } }
        guard await trackerGate.admit() else { return nil }
        updateTracker(url) { $0.status = "announcing" }
        do throws(AnnounceResponse.Failure) {
            let response = try await TrackerExchange.announce(request, to: url, config: config)
            if let id = response.trackerID { trackerIDs[url] = id }
            updateTracker(url) {
                $0.status = response.warning.map { "working (warning: \($0))" } ?? "working"
                $0.error = nil
                $0.lastAnnounce = now
                $0.seeders = response.complete
                $0.leechers = response.incomplete
                $0.peersReturned = response.peers.count
            }
            logger.debug("announced", metadata: ["tracker": "\(url)", "event": "\(event)", "peers": "\(response.peers.count)",
                                                 "interval": "\(response.interval)"])
            return response
        } catch {
            updateTracker(url) { $0.status = "error"; $0.error = error.trackerMessage; $0.lastAnnounce = now }
            logger.info("announce failed", metadata: ["tracker": "\(url)", "event": "\(event)", "error": "\(error.trackerMessage)"])
            return nil
        }
    }

    private func updateTracker(_ url: String, _ change: (inout TrackerSnapshot) -> Void) {
        for index in trackerStates.indices where trackerStates[index].url == url { change(&trackerStates[index]) }
    }

    /// Best effort, bounded: a dead tracker must not hold up quitting, nor a queue of
    /// thousands of torrents' stops (one whose turn is over 3 s off is not sent; the tracker
    /// forgets us at its interval anyway).
    func announceStopped() async {
        guard picker != nil else { return }
        let request = announceRequest(.stopped)
        let ids = trackerIDs
        // Only trackers that answered us know we are here.
        let announced = Set(trackerStates.filter { $0.error == nil && $0.lastAnnounce != nil }.map(\.url))
        let gate = trackerGate
        await withTaskGroup(of: Void.self) { group in
            for url in announced {
                guard await gate.admit(giveUpAfter: .seconds(3)) else {
                    logger.debug("stopped not sent: other torrents' tracker requests are ahead of it", metadata: ["tracker": "\(url)"])
                    continue
                }
                var own = request
                own.trackerID = ids[url]
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
