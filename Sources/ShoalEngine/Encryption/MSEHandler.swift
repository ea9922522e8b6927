import NIOCore
import ShoalCore

/// Message Stream Encryption on one socket, as the first handler of its pipeline: it runs the
/// handshake (`MSEHandshake`) on the raw bytes, then en- and decrypts everything in place, so
/// the handlers above it see the peer protocol in the clear. As a responder it first tells a
/// plaintext handshake from an encrypted one by the opening bytes, and steps aside for plaintext.
/// `negotiated` completes once the stream is ready, or fails with the reason (the channel is
/// closed then).
final class MSEHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// How the stream came out.
    struct Outcome: Sendable {
        /// RC4 for the rest of the stream (not a plaintext one, or an MSE one that chose plaintext).
        let encrypted: Bool
        /// The torrent an MSE handshake named; nil for a plaintext opening.
        let infoHash: InfoHash?
    }

    private enum State {
        /// Responder, before the opening bytes tell which kind of stream this is.
        case sniffing
        case negotiating
        case established
        case failed
    }

    private var state: State
    /// The opening bytes seen while sniffing.
    private var seen: [UInt8] = []
    private var handshake: MSEHandshake?
    /// The ciphers once established (nil: that direction is plaintext). Stored apart from
    /// `state` so each read mutates them in place, with no copy of their tables.
    private var incoming: RC4?
    private var outgoing: RC4?
    private let policy: EncryptionPolicy
    private let lookup: MSEHandshake.TorrentLookup
    /// The initiator's first message, sent once the connection is up.
    private var opening: [UInt8]?
    /// Writes from above before the handshake finished, sent once it has.
    private var pending: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    let negotiated: EventLoopPromise<Outcome>
    private var resolved = false

    /// Dials: an MSE initiator for `infoHash`.
    init(initiating infoHash: InfoHash, policy: EncryptionPolicy, eventLoop: any EventLoop) {
        var random = SystemRandomNumberGenerator()
        let (handshake, opening) = MSEHandshake.initiator(infoHash: infoHash, provide: policy.provide, using: &random)
        state = .negotiating
        self.handshake = handshake
        self.opening = opening
        self.policy = policy
        lookup = { _ in nil }
        negotiated = eventLoop.makePromise()
    }

    /// Accepts: plaintext or MSE, as the opening bytes and `policy` say; `lookup` finds the
    /// torrent an MSE initiator names.
    init(responding policy: EncryptionPolicy, lookup: @escaping MSEHandshake.TorrentLookup, eventLoop: any EventLoop) {
        state = .sniffing
        self.policy = policy
        self.lookup = lookup
        negotiated = eventLoop.makePromise()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { sendOpening(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendOpening(context)
        context.fireChannelActive()
    }

    private func sendOpening(_ context: ChannelHandlerContext) {
        guard let opening else { return }
        self.opening = nil
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: opening)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        switch state {
        case .established:
            if incoming != nil { buffer.withUnsafeMutableReadableBytes { incoming!.apply($0) } }
            context.fireChannelRead(wrapInboundOut(buffer))
        case .sniffing:
            seen += buffer.readableBytesView
            sniff(context: context)
        case .negotiating:
            do {
                guard let step = try handshake?.receive(buffer.readableBytesView) else { return }
                if !step.send.isEmpty {
                    context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: step.send)), promise: nil)
                }
                if let stream = step.established { establish(stream, context: context) }
            } catch {
                fail("MSE: \(error)", context: context)
            }
        case .failed:
            break
        }
    }

    private func sniff(context: ChannelHandlerContext) {
        switch EncryptionPolicy.opening(of: seen) {
        case .needMoreBytes:
            break
        case .plaintext:
            guard policy.acceptsPlaintext else { return fail("a plaintext handshake, and encryption is required", context: context) }
            state = .established
            succeed(Outcome(encrypted: false, infoHash: nil))
            let opening = context.channel.allocator.buffer(bytes: seen)
            seen = []
            context.fireChannelRead(wrapInboundOut(opening))
            // Plaintext from here on: nothing left to do on this connection.
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        case .encrypted:
            guard policy.acceptsEncrypted else { return fail("an encrypted handshake, and encryption is disabled", context: context) }
            var random = SystemRandomNumberGenerator()
            handshake = MSEHandshake.responder(preference: policy.preference, lookup: lookup, using: &random)
            state = .negotiating
            let opening = context.channel.allocator.buffer(bytes: seen)
            seen = []
            channelRead(context: context, data: wrapInboundOut(opening))
        }
    }

    private func establish(_ stream: MSEStream, context: ChannelHandlerContext) {
        state = .established
        handshake = nil
        incoming = stream.incoming
        outgoing = stream.outgoing
        succeed(Outcome(encrypted: stream.method == .rc4, infoHash: stream.infoHash))
        let queued = pending
        pending = []
        for (buffer, promise) in queued { write(context: context, data: NIOAny(buffer), promise: promise) }
        if !queued.isEmpty { context.flush() }
        if !stream.payload.isEmpty { context.fireChannelRead(wrapInboundOut(context.channel.allocator.buffer(bytes: stream.payload))) }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var buffer = unwrapOutboundIn(data)
        switch state {
        case .established:
            guard outgoing != nil else { return context.write(data, promise: promise) }
            // In place: a buffer shared with someone else (the upload cache) is copied first.
            buffer.withUnsafeMutableReadableBytes { outgoing!.apply($0) }
            context.write(wrapOutboundOut(buffer), promise: promise)
        case .sniffing, .negotiating:
            pending.append((buffer, promise))
        case .failed:
            promise?.fail(ChannelError.ioOnClosedChannel)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .sniffing = state, seen.isEmpty {
            fail("the peer closed the connection before its handshake", context: context)
        } else {
            fail("MSE: the peer closed the connection during the encrypted handshake", context: context)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail("MSE: \(error)", context: context)
        context.fireErrorCaught(error)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail("MSE: the connection closed during the encrypted handshake", context: context)
    }

    /// Installs the handler in `channel`'s pipeline at `position` (on its event loop); if that fails
    /// (the peer already left), the handshake fails with it rather than leaving its promise unkept.
    func install(in channel: any Channel, position: ChannelPipeline.SynchronousOperations.Position = .last) throws {
        do {
            try channel.pipeline.syncOperations.addHandler(self, position: position)
        } catch {
            if !resolved {
                resolved = true
                negotiated.fail(error)
            }
            throw error
        }
    }

    private func succeed(_ outcome: Outcome) {
        guard !resolved else { return }
        resolved = true
        negotiated.succeed(outcome)
    }

    /// Fails the handshake (only while it runs: later errors belong to the peer protocol).
    private func fail(_ reason: String, context: ChannelHandlerContext) {
        guard !resolved else { return }
        resolved = true
        state = .failed
        for (_, promise) in pending { promise?.fail(ChannelError.ioOnClosedChannel) }
        pending = []
        negotiated.fail(PeerConnection.HandshakeFailure(description: reason))
        context.close(promise: nil)
    }
}
