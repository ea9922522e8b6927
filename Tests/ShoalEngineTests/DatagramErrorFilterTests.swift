import NIOCore
import NIOPosix
@testable import ShoalEngine
import ShoalTestSupport
import Testing

/// A UDP socket's reader keeps reading through the errors the socket survives, and stops at
/// any other.
@Suite("UDP errors the socket survives")
struct DatagramErrorFilterTests {
    typealias Envelope = AddressedEnvelope<ByteBuffer>

    /// What a reader on 127.0.0.1 gets from: a datagram, the error `code` as NIO passes it on,
    /// another datagram; and whether its inbound stream threw.
    static func read(filtered: Bool, error code: CInt) async throws -> (got: [UInt8], failed: Bool) {
        let reader = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if filtered { try channel.pipeline.syncOperations.addHandler(DatagramErrorFilter(logger: .init(label: "test"))) }
                    return try NIOAsyncChannel<Envelope, Envelope>(wrappingChannelSynchronously: channel)
                }
            }
        let raw = reader.channel
        let port = raw.localAddress?.port ?? 0
        return try await reader.executeThenClose { inbound, _ in
            var got: [UInt8] = []
            var failed = false
            var iterator = inbound.makeAsyncIterator()
            do {
                LoopbackSocket.sendDatagram([1], port: port)
                if let first = try await iterator.next() { got += first.data.readableBytesView }
                // On the loop and waited for: the error has been through the pipeline before the
                // second datagram exists, so the two cannot arrive in either order.
                try await raw.eventLoop.submit {
                    raw.pipeline.fireErrorCaught(IOError(errnoCode: code, reason: "recvmsg"))
                }.get()
                LoopbackSocket.sendDatagram([2], port: port)
                if let second = try await iterator.next() { got += second.data.readableBytesView }
            } catch {
                failed = true
            }
            return (got, failed)
        }
    }

    @Test func refusedAndOutOfMemoryDoNotEndTheReader() async throws {
        for code in [ECONNREFUSED, ENOMEM] {
            let result = try await Self.read(filtered: true, error: code)
            #expect(result.got == [1, 2] && !result.failed, "errno \(code): \(result)")
        }
        // What the filter is for: without it the first such error ends the reader.
        let unfiltered = try await Self.read(filtered: false, error: ECONNREFUSED)
        #expect(unfiltered.got == [1] && unfiltered.failed, "\(unfiltered)")
    }

    @Test func otherErrorsStillEndIt() async throws {
        let result = try await Self.read(filtered: true, error: EBADF)
        #expect(result.got == [1] && result.failed, "\(result)")
    }
}
