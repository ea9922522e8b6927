import Logging
import NIOCore
import NIOPosix
import ShoalCore

/// Connections peers open to us: each is handshaken, routed to its torrent by info-hash, and
/// run there; one over the descriptor budget is closed at once.
extension Session {
    func acceptLoop(_ server: NIOAsyncChannel<any Channel, Never>) async {
        try? await server.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await child in inbound {
                    group.addTask { await self.handleIncoming(child) }
                }
            }
        }
    }

    /// A uTP connection a peer opened: its stream's descriptor made a channel, then taken like
    /// an accepted TCP connection (MSE, handshake, routing) with the peer's UDP address.
    nonisolated func handleIncomingUTP(_ accepted: UTPEndpoint.Accepted) async {
        let raw: any Channel
        do {
            raw = try await UTPSockets.bootstrap(MultiThreadedEventLoopGroup.singleton).channelOption(.autoRead, value: false)
                .withConnectedSocket(accepted.descriptor).get()
        } catch {
            // Not closed here: NIO may already have, with the channel it made of it, and a second
            // close could hit a descriptor opened since under the same number.
            return await refused(accepted.address, CloseReason(.connectionError, "uTP stream: \(error)"))
        }
        await handleIncoming(raw, from: accepted.address, utp: true)
    }

    private nonisolated func handleIncoming(_ raw: any Channel, from known: PeerAddress? = nil, utp: Bool = false) async {
        // Over the descriptor budget, a connection is closed at once: the process must keep
        // descriptors for its files and its own dials.
        guard DescriptorBudget.shared.takeSocket() else {
            try? await raw.close()
            if let known { return await refused(known, CloseReason(.enoughPeers, DescriptorBudget.Exhausted().description)) }
            return await refused(raw, CloseReason(.enoughPeers, DescriptorBudget.Exhausted().description))
        }
        defer { DescriptorBudget.shared.giveSocket() }
        // Wrapping here rather than in the accept initializer: NIO traps on an async channel that
        // is dropped unused, which happens when a connection races a closing listener.
        let remote = raw.remoteAddress
        // A uTP stream's channel is a socket pair: the peer's address comes with it.
        let address = known ?? PeerAddress(host: remote?.ipAddress ?? "?", port: UInt16(remote?.port ?? 0)).normalized
        var stream: PeerStream
        do {
            stream = try await transport.adopt(raw)
        } catch {
            try? await raw.close()
            // The encrypted handshake's failure, or a policy refusal, says why; anything else
            // happened before a byte was read.
            let reason = (error as? PeerConnection.HandshakeFailure).map { CloseReason(.handshakeFailed, $0.description) }
            return await refused(address, reason ?? CloseReason(.connectionError, "closed before it could be read"))
        }
        stream.utp = utp
        let child = stream.channel
        var reason: CloseReason?
        do {
            try await child.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                var decoder = PeerWireDecoder(maxFrameLength: PeerWireDecoder.extendedFrameLimit)
                let handshake: Handshake
                do {
                    handshake = try await PeerConnection.withDeadline(channel: raw, timeout: self.config.handshakeTimeout) {
                        try await PeerConnection.readHandshake(&iterator, into: &decoder)
                    }
                } catch {
                    reason = CloseReason(.handshakeFailed, "\(error)")
                    return
                }
                if let named = stream.infoHash, named != handshake.infoHash {
                    reason = CloseReason(.handshakeFailed, "the encrypted handshake named \(named.hex), the BitTorrent one \(handshake.infoHash.hex)")
                    return
                }
                guard let runtime = await self.runtime(for: handshake.infoHash) else {
                    // A magnet fetching its metadata takes the peer as a dialled one.
                    guard let fetcher = await self.fetching(handshake.infoHash) else {
                        reason = CloseReason(.handshakeFailed, "no running torrent with info-hash \(handshake.infoHash.hex)")
                        return
                    }
                    switch await fetcher.takeIncoming(address) {
                    case .refused(let refusal):
                        await fetcher.refusedIncoming(address, refusal)
                    case .admitted(let key):
                        let ended = await MetadataConnection.accepted(handshake, iterator: &iterator, decoder: decoder, channel: raw,
                                                                      key: key, fetcher: fetcher)
                        await fetcher.incomingEnded(key, reason: ended)
                    }
                    return
                }
                let context = await runtime.context
                // Re-home leftover bytes in a decoder sized for this torrent's bitfield.
                var sized = PeerWireDecoder(pieceCount: context.pieceCount)
                if let rest = decoder.takeRaw(decoder.bufferedByteCount) { sized.append(rest) }
                try await PeerConnection.accepted(handshake: handshake, remote: address, stream: stream, iterator: &iterator,
                                                  outbound: outbound, decoder: sized, channel: raw, torrent: runtime,
                                                  context: context)
            }
        } catch {
            // Past the handshake the torrent counts how the connection ended; only a failed
            // reply to the handshake is left to say here.
            if reason == nil { reason = CloseReason(.connectionError, "\(error)") }
        }
        if let reason { await refused(address, reason) }
    }

    private nonisolated func refused(_ raw: any Channel, _ reason: CloseReason) async {
        let remote = raw.remoteAddress
        await refused(PeerAddress(host: remote?.ipAddress ?? "?", port: UInt16(remote?.port ?? 0)).normalized, reason)
    }

    /// An incoming connection that never reached a torrent: counted for the session, and logged.
    func refused(_ address: PeerAddress, _ reason: CloseReason) {
        refusedIncoming.add(reason.kind)
        var logger = self.logger
        logger[metadataKey: "peer"] = "\(address)"
        logger[metadataKey: "direction"] = "in"
        logger.debug("refused", metadata: ["reason": "\(reason)"])
    }
}
