import NIOCore
import ShoalCore
import Synchronization

/// One dial's handle, for cancelling it from the dialling task: which connection it opened, and
/// whether it was cancelled before it began (both are read and set on the endpoint's loop).
final class UTPDial: Sendable {
    private let state = Mutex<(key: UTPEndpoint.Key?, cancelled: Bool)>((nil, false))
    var key: UTPEndpoint.Key? {
        get { state.withLock { $0.key } }
        set { state.withLock { $0.key = newValue } }
    }
    var isCancelled: Bool { state.withLock { $0.cancelled } }
    func cancel() { state.withLock { $0.cancelled = true } }
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
