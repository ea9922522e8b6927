import NIOCore
import ShoalCore

/// A magnet's connection to one peer, dialled or accepted by the session's listener: the
/// BitTorrent handshake through the session's transport (as a torrent's), then the pure
/// `MetadataExchange` fed from the socket, its messages written, what it learned handed to the
/// fetcher. Returns how the connection ended.
enum MetadataConnection {
    /// Dials `address` for the fetcher's magnet and runs the connection.
    static func dial(_ address: PeerAddress, key: Int, fetcher: MetadataFetcher) async -> CloseReason {
        let infoHash = fetcher.magnet.infoHash
        var connected = false
        do {
            let stream = try await fetcher.transport.connect(to: address, infoHash: infoHash, logger: fetcher.logger)
            connected = true
            let raw = stream.channel.channel
            return try await stream.channel.executeThenClose { inbound, _ in
                try await raw.writeAndFlush(ByteBuffer(bytes: ourHandshake(fetcher).encoded))
                var iterator = inbound.makeAsyncIterator()
                var decoder = PeerWireDecoder(maxFrameLength: PeerWireDecoder.extendedFrameLimit)
                let theirs = try await PeerConnection.withDeadline(channel: raw, timeout: fetcher.config.handshakeTimeout) {
                    try await PeerConnection.readHandshake(&iterator, into: &decoder)
                }
                // A hybrid's peer may answer with its v2 hash, upgrading the connection (BEP 52).
                let upgraded = fetcher.magnet.v2Hash.flatMap { InfoHash(bytes: $0.prefix(20)) }
                guard theirs.infoHash == infoHash || theirs.infoHash == upgraded else {
                    return CloseReason(.handshakeFailed, "wrong info-hash: \(theirs.infoHash.hex)")
                }
                return await run(theirs, iterator: &iterator, decoder: decoder, channel: raw, key: key, fetcher: fetcher)
            }
        } catch let failure as PeerConnection.HandshakeFailure {
            return CloseReason(.handshakeFailed, failure.description)
        } catch {
            return CloseReason(connected ? .connectionError : .connectFailed, "\(error)")
        }
    }

    /// Runs a connection the listener accepted for the magnet, its handshake read.
    static func accepted(_ handshake: Handshake, iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
                         decoder: PeerWireDecoder, channel: any Channel, key: Int, fetcher: MetadataFetcher) async -> CloseReason {
        do {
            try await channel.writeAndFlush(ByteBuffer(bytes: ourHandshake(fetcher).encoded))
        } catch {
            return CloseReason(.connectionError, "\(error)")
        }
        return await run(handshake, iterator: &iterator, decoder: decoder, channel: channel, key: key, fetcher: fetcher)
    }

    private static func ourHandshake(_ fetcher: MetadataFetcher) -> Handshake {
        Handshake(infoHash: fetcher.magnet.infoHash, peerID: fetcher.config.peerID,
                  reserved: Handshake.reservedBits(dht: fetcher.config.dhtEnabled))
    }

    private static func run(_ handshake: Handshake, iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
                            decoder: PeerWireDecoder, channel: any Channel, key: Int, fetcher: MetadataFetcher) async -> CloseReason {
        if let refusal = MetadataExchange.refusal(handshake, ours: fetcher.config.peerID) { return refusal }
        var exchange = MetadataExchange(pex: fetcher.pexAllowed, now: .now)
        var decoder = decoder
        // Set when the stall timer closed the connection: that close is ours, not the peer's.
        let stalled = PeerConnection.Flag()
        func arm(_ deadline: ContinuousClock.Instant) -> Scheduled<Void> {
            let wait = max(.zero, deadline - .now)
            return channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(wait / .nanoseconds(1)))) {
                stalled.set()
                channel.close(promise: nil)
            }
        }
        var armedFor = exchange.deadline
        var timer = arm(armedFor)
        defer { timer.cancel() }
        do {
            try await channel.writeAndFlush(ByteBuffer(bytes: exchange.opening(client: ShoalVersion.createdBy,
                                                                              listenPort: fetcher.listenPort).encoded))
            while true {
                while let message = try decoder.next() {
                    switch exchange.receive(message, now: .now) {
                    case .nothing:
                        // While a v2 magnet's layers are fetched, an idle connection takes its share.
                        if fetcher.wantsHashes.load(ordering: .relaxed) {
                            for request in await fetcher.pendingHashRequests(key) {
                                try await channel.writeAndFlush(ByteBuffer(bytes: PeerMessage.hashRequest(request).encoded))
                            }
                        }
                        continue
                    case .close(let reason):
                        return reason
                    case .learned(let learned):
                        switch await fetcher.learned(learned, key: key) {
                        case .close(let reason):
                            return reason
                        case .ask(let pieces):
                            for request in exchange.requests(pieces) {
                                try await channel.writeAndFlush(ByteBuffer(bytes: request.encoded))
                            }
                        case .askHashes(let requests):
                            for request in requests {
                                try await channel.writeAndFlush(ByteBuffer(bytes: PeerMessage.hashRequest(request).encoded))
                            }
                        }
                    }
                    if exchange.deadline != armedFor {
                        timer.cancel()
                        armedFor = exchange.deadline
                        timer = arm(armedFor)
                    }
                }
                guard let buffer = try await iterator.next() else { return stalled.isSet ? MetadataExchange.stalled : CloseReason(.closedByPeer) }
                decoder.append(buffer.readableBytesView)
            }
        } catch {
            if stalled.isSet { return MetadataExchange.stalled }
            if let error = error as? PeerWireDecoder.DecodeError { return CloseReason(error) }
            return CloseReason(.connectionError, "\(error)")
        }
    }
}
