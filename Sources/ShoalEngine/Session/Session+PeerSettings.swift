import NIOCore
import ShoalCore

/// The peer port and the connection limits, changed while running (a remote's `session-set`):
/// each takes effect at once, and comes back next run unless that run's flags name it.
extension Session {
    /// Listens for peers on `wanted` (0: any free port) instead. Connections already made stay;
    /// trackers and the DHT are told the new port as soon as each allows. The old listener
    /// stays until the new one is bound, so a port that is taken changes nothing.
    ///
    /// The DHT keeps its UDP port: its announces name the TCP port outright (BEP 5's `port`,
    /// not `implied_port`), so nodes hand out the new one.
    public func setPeerPort(_ wanted: UInt16) async throws {
        try await movePeerPort(wanted)
        remotePeerSettings.port = listenPort
        await saveSettings()
    }

    func movePeerPort(_ wanted: UInt16) async throws {
        guard wanted == 0 || wanted != listenPort else { return }
        guard !hasShutDown else { throw SessionError.unsupported("the session is shutting down") }
        let addresses = config.bindAddresses.isEmpty ? ["0.0.0.0"] : config.bindAddresses
        let fresh: PeerListener.Group
        do {
            fresh = try await PeerListener.bind(addresses, port: Int(wanted))
        } catch {
            throw SessionError.cannotListen("port \(wanted) on \(addresses[0]): \(error)")
        }
        let bound = fresh.port
        guard !hasShutDown else {
            await PeerListener.drain(fresh.servers)
            throw SessionError.unsupported("the session is shutting down")
        }
        let retired = servers
        let old = listenPort
        servers = fresh.servers
        port.set(bound)
        if isRunning {
            for server in fresh.servers { spawnContinuation.yield(.listener(server)) }
            // Each accept loop ends when its listener closes; connections it took carry on.
            for server in retired { try? await server.channel.close() }
        } else {
            await PeerListener.drain(retired)
        }
        logger.info("listening for peers on another port", metadata: ["port": "\(bound)", "was": "\(old)"])
        for problem in fresh.problems { report(problem) }
        for entry in entries.values where !entry.paused { await entry.runtime?.listenPortMoved() }
    }

    /// New connection limits: across the session (`peer-limit-global`) and for each torrent
    /// (`peer-limit-per-torrent`, where a torrent has no limit of its own). Connections over a
    /// lowered limit close now, the least useful first; the session-wide surplus is shared out
    /// among torrents by how many each holds.
    public func setPeerLimits(global: Int? = nil, perTorrent: Int? = nil) async {
        await applyPeerLimits(global: global, perTorrent: perTorrent)
        if global != nil { remotePeerSettings.limitGlobal = peerBudget.limit }
        if perTorrent != nil { remotePeerSettings.limitPerTorrent = peerLimitPerTorrent }
        await saveSettings()
    }

    func applyPeerLimits(global: Int?, perTorrent: Int?) async {
        if let global { peerBudget.setLimit(max(1, global)) }
        if let perTorrent { peerLimitPerTorrent = max(1, perTorrent) }
        var held: [(runtime: TorrentRuntime, limit: Int, count: Int)] = []
        for entry in entries.values where !entry.paused {
            guard let runtime = entry.runtime else { continue }
            held.append((runtime, effectivePeerLimit(entry), await runtime.openConnectionCount))
        }
        let total = held.reduce(0) { $0 + $1.count }
        var excess = max(0, peerBudget.inUse - peerBudget.limit)
        let shares = excess
        for torrent in held.sorted(by: { $0.count > $1.count }) {
            let share = total == 0 ? 0 : min(excess, (shares * torrent.count + total - 1) / total)
            excess -= share
            await torrent.runtime.setPeerLimit(torrent.limit, closingSurplus: share)
        }
        logger.info("connection limits set", metadata: ["global": "\(peerBudget.limit)", "per_torrent": "\(peerLimitPerTorrent)"])
    }

    /// What a remote set last run, where this run's flags and config file do not name it (what
    /// they name wins, and the remote's value is forgotten). A port that cannot be had is a
    /// problem to report, not fatal: the session stays on the one it has.
    func restorePeerSettings(_ saved: SessionStore.PeerSettings) async -> [String] {
        var problems: [String] = []
        if config.restoresPeerLimitGlobal || config.restoresPeerLimitPerTorrent {
            let global = config.restoresPeerLimitGlobal ? saved.limitGlobal : nil
            let perTorrent = config.restoresPeerLimitPerTorrent ? saved.limitPerTorrent : nil
            if global != nil || perTorrent != nil { await applyPeerLimits(global: global, perTorrent: perTorrent) }
            remotePeerSettings.limitGlobal = global
            remotePeerSettings.limitPerTorrent = perTorrent
        }
        if config.restoresPeerPort, let port = saved.port {
            // Kept either way: a port busy this once is tried again next start.
            remotePeerSettings.port = port
            do {
                try await movePeerPort(port)
            } catch {
                problems.append("cannot listen on port \(port), set by a remote last run (staying on \(listenPort)): \(error)")
            }
        }
        return problems
    }

    /// A torrent's own connection limit (nil: the session's again), kept in the session file.
    public func setPeerLimit(_ hash: InfoHash, _ limit: Int?) async throws {
        try await serialized(hash) {
            guard entries[hash] != nil else { throw SessionError.unknownTorrent }
            entries[hash]?.peerLimit = limit.map { max(1, $0) }
            if let entry = entries[hash], let runtime = entry.runtime { await runtime.setPeerLimit(effectivePeerLimit(entry)) }
            await saveTorrent(hash)
        }
    }

    /// The connections a torrent may hold.
    func effectivePeerLimit(_ entry: Entry) -> Int { entry.peerLimit ?? peerLimitPerTorrent }
}
