#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import ShoalCore

/// The uTP connections of one UDP socket, in its channel's pipeline (the DHT's socket when the
/// DHT runs, else one of `UTPSockets`' own): uTP datagrams are taken here, anything else goes
/// on up (to the DHT). Each connection is a `UTPConnection` carried out on this event loop;
/// its bytes reach the peer protocol through a Unix socket pair, so everything above sees an
/// ordinary stream channel (MSE, the handshake, `PeerLink`) and a uTP peer needs no code of
/// its own there.
final class UTPEndpoint: ChannelDuplexHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias InboundOut = AddressedEnvelope<ByteBuffer>
    typealias OutboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    typealias Key = UTPSocketTable<SocketAddress>.Key

    /// A connection a peer opened: the descriptor of its stream's far end, for the session.
    struct Accepted: Sendable {
        let descriptor: CInt
        let address: PeerAddress
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private var table: UTPSocketTable<SocketAddress>
    private var streams: [Key: UTPStream] = [:]
    private var context: ChannelHandlerContext?
    private var ticker: RepeatedTask?
    /// Connections that received packets in this read burst: their acks go out at its end.
    private var touched: [Key] = []
    private var random = SplitMix64()
    /// Full-size packets gathered for one write; nil without segmentation offload (or after
    /// the kernel refused a batch: some interfaces cannot offload).
    private var batch: UTPDatagramBatch?
    let settings: UTPConnection.Settings
    let accepted: @Sendable (Accepted) -> Void
    let logger: Logger
    /// A connection's unsent bytes past this stop reading its stream until they drop below half.
    static let sendBufferLimit = 1 << 20

    init(settings: UTPConnection.Settings, limit: Int, logger: Logger, accepted: @escaping @Sendable (Accepted) -> Void) {
        self.settings = settings
        self.table = UTPSocketTable(limit: limit)
        self.logger = logger
        self.accepted = accepted
        if System.supportsUDPSegmentationOffload {
            batch = UTPDatagramBatch(segmentSize: UTPPacket.headerSize + settings.packetSize)
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let endpoint = NIOLoopBound(self, eventLoop: context.eventLoop)
        // Timeouts need a resolution well under the shortest (half a second).
        ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(50), delay: .milliseconds(50)) { _ in
            endpoint.value.tick()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        ticker?.cancel()
        for stream in Array(streams.values) { end(stream, CloseReason(.stopped, "the uTP socket closed")) }
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = ContinuousClock.now
        for envelope in UTPDatagramBatch.datagrams(of: unwrapInboundIn(data)) { received(envelope, context: context, now: now) }
    }

    private func received(_ envelope: AddressedEnvelope<ByteBuffer>, context: ChannelHandlerContext, now: ContinuousClock.Instant) {
        switch table.route(Array(envelope.data.readableBytesView), from: envelope.remoteAddress, now: now) {
        case .notUTP:
            context.fireChannelRead(wrapInboundOut(envelope))
        case .connection(let key, let packet):
            guard let stream = streams[key] else { return }
            // Acks and delivery wait for the end of the read burst: one ack, one write to the
            // stream for many packets.
            perform(stream.connection.receive(packet, now: now, deferAck: true), on: stream, deliverNow: false)
            if !stream.touched {
                stream.touched = true
                touched.append(key)
            }
        case .accept(let key, let syn):
            accept(key, syn, from: envelope.remoteAddress, now: now)
        case .reply(let packet, let why):
            // A refused SYN or a stranger's packet: the RESET goes back, the reason to the log.
            logger.debug("uTP packet answered with a reset", metadata: ["peer": "\(envelope.remoteAddress)", "reason": "\(why)"])
            send(packet, to: envelope.remoteAddress)
        case .drop(let why):
            logger.trace("uTP datagram dropped", metadata: ["peer": "\(envelope.remoteAddress)", "reason": "\(why)"])
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        let now = ContinuousClock.now
        for key in touched {
            guard let stream = streams[key] else { continue }
            stream.touched = false
            perform(stream.connection.flushAck(now: now), on: stream)
        }
        touched.removeAll(keepingCapacity: true)
        flush()
        context.fireChannelReadComplete()
    }

    // MARK: Connections

    /// Dials `remote`: the descriptor of the new stream's far end once the peer answered the
    /// SYN, or a failure (no answer within about three seconds, or a RESET).
    func connect(to remote: SocketAddress) -> EventLoopFuture<CInt> {
        guard let context else { return MultiThreadedEventLoopGroup.singleton.next().makeFailedFuture(Failure(description: "uTP is off")) }
        guard let key = table.reserveDialID(to: remote, using: &random) else {
            return context.eventLoop.makeFailedFuture(Failure(description: "uTP connection limit reached"))
        }
        let (connection, actions) = UTPConnection.dial(receiveID: key.receiveID, initialSequence: .random(in: 0...UInt16.max, using: &random),
                                                       settings: settings, now: .now)
        guard let stream = makeStream(key, remote: remote, connection: connection) else {
            table.remove(key)
            return context.eventLoop.makeFailedFuture(Failure(description: "no descriptors for a uTP stream"))
        }
        let promise = context.eventLoop.makePromise(of: CInt.self)
        stream.connectPromise = promise
        perform(actions, on: stream)
        flush()
        return promise.futureResult
    }

    private func accept(_ key: Key, _ syn: UTPPacket, from remote: SocketAddress, now: ContinuousClock.Instant) {
        let (connection, actions) = UTPConnection.accept(syn, initialSequence: .random(in: 0...UInt16.max, using: &random),
                                                         settings: settings, now: now)
        guard let stream = makeStream(key, remote: remote, connection: connection) else {
            send(UTPPacket(kind: .reset, connectionID: syn.connectionID, sequence: 0, ack: syn.sequence), to: remote)
            return
        }
        table.insert(key)
        perform(actions, on: stream)
        stream.handedOver = true
        accepted(Accepted(descriptor: stream.farDescriptor, address: Self.peerAddress(remote)))
    }

    static func peerAddress(_ socket: SocketAddress) -> PeerAddress {
        PeerAddress(host: socket.ipAddress ?? "?", port: UInt16(socket.port ?? 0)).normalized
    }

    /// A socket pair for the connection's bytes: this end on this event loop, bridged to the
    /// connection; the far end for the peer protocol.
    private func makeStream(_ key: Key, remote: SocketAddress, connection: UTPConnection) -> UTPStream? {
        guard let context, DescriptorBudget.shared.takeSocket() else { return nil }
        var pair: [CInt] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else {
            DescriptorBudget.shared.giveSocket()
            return nil
        }
        let stream = UTPStream(key: key, remote: remote, connection: connection, farDescriptor: pair[1])
        streams[key] = stream
        table.insert(key)
        let bound = NIOLoopBound((self, stream), eventLoop: context.eventLoop)
        ClientBootstrap(group: context.eventLoop)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UTPBridge(endpoint: bound.value.0, stream: bound.value.1))
                }
            }
            .withConnectedSocket(pair[0])
            .whenComplete { result in
                let (endpoint, stream) = bound.value
                switch result {
                case .success(let channel): endpoint.bridgeReady(stream, channel)
                case .failure(let error): endpoint.end(stream, CloseReason(.connectionError, "uTP stream: \(error)"))
                }
            }
        return stream
    }

    private func bridgeReady(_ stream: UTPStream, _ channel: any Channel) {
        guard streams[stream.key] === stream else {
            channel.close(promise: nil)
            return
        }
        stream.bridge = channel
        for buffer in stream.waiting { write(buffer, to: stream) }
        stream.waiting.removeAll()
        if stream.endOfStream { channel.close(mode: .output, promise: nil) }
        channel.flush()
    }

    /// Carries out what a connection asked for; delivered bytes go to the stream now or, within
    /// a read burst, at its end.
    private func perform(_ actions: [UTPConnection.Action], on stream: UTPStream, deliverNow: Bool = true) {
        for action in actions {
            switch action {
            case .send(let packet):
                send(packet, to: stream.remote)
            case .deliver(let bytes):
                stream.inbox.writeBytes(bytes)
            case .connected:
                stream.connectPromise?.succeed(stream.farDescriptor)
                stream.connectPromise = nil
                stream.handedOver = true
            case .endOfStream:
                deliver(stream)
                stream.endOfStream = true
                stream.bridge?.close(mode: .output, promise: nil)
            case .finished:
                deliver(stream)
                end(stream, nil)
            case .closed(let reason):
                deliver(stream)
                end(stream, reason)
            }
        }
        guard deliverNow else { return }
        deliver(stream)
        stream.bridge?.flush()
        // Acks made room: read the stream again.
        if stream.readingPaused, stream.connection.bufferedBytes < Self.sendBufferLimit / 2 {
            stream.readingPaused = false
            stream.bridge?.setOption(.autoRead, value: true).whenFailure { _ in }
        }
    }

    /// What was delivered so far, into the stream (or held until the stream is ready).
    private func deliver(_ stream: UTPStream) {
        guard stream.inbox.readableBytes > 0 else { return }
        let buffer = stream.inbox
        stream.inbox = ByteBuffer()
        if stream.bridge == nil { stream.waiting.append(buffer) } else { write(buffer, to: stream) }
    }

    /// Delivered bytes into the stream; the connection's window opens as they are taken.
    private func write(_ buffer: ByteBuffer, to stream: UTPStream) {
        guard let bridge = stream.bridge else { return }
        let count = buffer.readableBytes
        let bound = NIOLoopBound((self, stream), eventLoop: bridge.eventLoop)
        bridge.write(buffer).whenSuccess {
            let (endpoint, stream) = bound.value
            guard endpoint.streams[stream.key] === stream else { return }
            endpoint.perform(stream.connection.consumed(count, now: .now), on: stream)
            endpoint.flush()
        }
    }

    private func send(_ packet: UTPPacket, to remote: SocketAddress) {
        guard let context else { return }
        guard batch != nil else {
            context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: packet.encoded()))), promise: nil)
            return
        }
        for envelope in batch!.add(packet.encoded(), to: remote) { write(envelope, context: context) }
    }

    /// Sends what was gathered, then everything written.
    private func flush() {
        guard let context else { return }
        if let envelope = batch?.take() { write(envelope, context: context) }
        context.flush()
    }

    private func write(_ envelope: AddressedEnvelope<ByteBuffer>, context: ChannelHandlerContext) {
        guard envelope.metadata?.segmentSize != nil else {
            context.write(wrapOutboundOut(envelope), promise: nil)
            return
        }
        // An interface that cannot offload fails the batch (EIO; EINVAL for a size it will not
        // cut): its packets are lost — uTP resends them — and the endpoint sends one datagram per
        // packet from then on. Other errors (an unreachable peer) say nothing about offload.
        let promise = context.eventLoop.makePromise(of: Void.self)
        let endpoint = NIOLoopBound(self, eventLoop: context.eventLoop)
        promise.futureResult.whenFailure { error in
            guard endpoint.value.batch != nil, let code = (error as? IOError)?.errnoCode, code == EIO || code == EINVAL else { return }
            endpoint.value.batch = nil
            endpoint.value.logger.info("UDP segmentation offload refused; uTP sends one datagram per packet", metadata: ["reason": "\(error)"])
        }
        context.write(wrapOutboundOut(envelope), promise: promise)
    }

    private func tick() {
        let now = ContinuousClock.now
        for stream in Array(streams.values) {
            guard let deadline = stream.connection.nextDeadline, deadline <= now else { continue }
            perform(stream.connection.tick(now: now), on: stream)
        }
        flush()
    }

    // MARK: From the stream

    /// Bytes the peer protocol wrote: sent as the windows allow; past the buffer limit the
    /// stream is not read until acks make room.
    func written(_ buffer: ByteBuffer, by stream: UTPStream) {
        perform(stream.connection.write(Array(buffer.readableBytesView), now: .now), on: stream)
        flush()
        if stream.connection.bufferedBytes >= Self.sendBufferLimit, !stream.readingPaused {
            stream.readingPaused = true
            stream.bridge?.setOption(.autoRead, value: false).whenFailure { _ in }
        }
    }

    /// The peer protocol finished writing (or closed): our FIN after what it wrote.
    func streamEnded(_ stream: UTPStream) {
        guard streams[stream.key] === stream else { return }
        perform(stream.connection.close(now: .now), on: stream)
        flush()
    }

    /// The connection is over: out of the table, its stream closed, a dial waiting told why.
    func end(_ stream: UTPStream, _ reason: CloseReason?) {
        guard streams[stream.key] === stream else { return }
        streams[stream.key] = nil
        table.remove(stream.key)
        if stream.connection.state != .closed {
            perform(stream.connection.reset(now: .now), on: stream)
            flush()
        }
        if let promise = stream.connectPromise {
            stream.connectPromise = nil
            promise.fail(Failure(description: reason?.description ?? "uTP connection ended"))
        }
        // A far end nobody took (a dial that failed) is ours to close.
        if !stream.handedOver { _ = Glibc.close(stream.farDescriptor) }
        // What was delivered in the same batch goes out before the stream closes.
        stream.bridge?.flush()
        stream.bridge?.close(promise: nil)
        DescriptorBudget.shared.giveSocket()
        if let reason {
            logger.debug("uTP connection closed", metadata: ["peer": "\(Self.peerAddress(stream.remote))", "reason": "\(reason)"])
        }
    }
}

/// One uTP connection's state on the endpoint's event loop.
final class UTPStream {
    let key: UTPEndpoint.Key
    let remote: SocketAddress
    var connection: UTPConnection
    let farDescriptor: CInt
    /// This end of the socket pair, once registered.
    var bridge: (any Channel)?
    /// Delivered before the bridge was ready.
    var waiting: [ByteBuffer] = []
    /// Delivered in this read burst, not yet written to the stream.
    var inbox = ByteBuffer()
    /// Received packets in this read burst (its ack and delivery are due at the end).
    var touched = false
    var endOfStream = false
    var readingPaused = false
    var connectPromise: EventLoopPromise<CInt>?
    /// The far end belongs to the session (accepted) or the dialler (connected).
    var handedOver = false

    init(key: UTPEndpoint.Key, remote: SocketAddress, connection: UTPConnection, farDescriptor: CInt) {
        self.key = key
        self.remote = remote
        self.connection = connection
        self.farDescriptor = farDescriptor
    }
}

/// This end of a uTP connection's socket pair: what the peer protocol writes goes to the
/// connection; its end of writing becomes our FIN.
final class UTPBridge: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let endpoint: UTPEndpoint
    private let stream: UTPStream

    init(endpoint: UTPEndpoint, stream: UTPStream) {
        self.endpoint = endpoint
        self.stream = stream
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        endpoint.written(unwrapInboundIn(data), by: stream)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { endpoint.streamEnded(stream) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        endpoint.streamEnded(stream)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
