import Logging
import NIOCore
import NIOPosix

/// Keeps a UDP socket's readers reading through errors the socket survives. NIO leaves a
/// datagram channel open on ECONNREFUSED (an earlier `sendto` bounced) and ENOMEM, but passes
/// the error on, and an async channel's inbound stream ends at the first error it sees: a DHT
/// node would stop hearing anyone while its socket stayed open. Those errors are logged and
/// dropped here; any other goes on, and ends the reader as before.
final class DatagramErrorFilter: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias InboundOut = AddressedEnvelope<ByteBuffer>

    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    static func survivable(_ error: any Error) -> Bool {
        guard let error = error as? IOError else { return false }
        return error.errnoCode == ECONNREFUSED || error.errnoCode == ENOMEM
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard Self.survivable(error) else {
            context.fireErrorCaught(error)
            return
        }
        logger.debug("UDP socket error, still reading", metadata: ["error": "\(error)"])
    }
}
