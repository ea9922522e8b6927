import NIOCore
@testable import ShoalEngine
import Testing

/// Gathering full-size uTP packets into one offloaded write, and cutting a merged read back
/// into datagrams: order kept, nothing lost, a write never past the kernel's limits.
@Suite("uTP datagram batches")
struct UTPDatagramBatchTests {
    static let a = try! SocketAddress(ipAddress: "127.0.0.1", port: 6881)
    static let b = try! SocketAddress(ipAddress: "127.0.0.1", port: 6882)

    static func packet(_ tag: Int, size: Int = 1_420) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: tag &* 31 &+ $0) }
    }

    /// The datagrams a list of writes puts on the wire, in order, with their addresses.
    static func wire(_ writes: [AddressedEnvelope<ByteBuffer>]) -> [(SocketAddress, [UInt8])] {
        writes.flatMap { write -> [(SocketAddress, [UInt8])] in
            UTPDatagramBatch.datagrams(of: write).map { ($0.remoteAddress, Array($0.data.readableBytesView)) }
        }
    }

    @Test func fullPacketsShareAWriteUpToTheLimit() throws {
        var batch = UTPDatagramBatch(segmentSize: 1_420)
        #expect(batch.maximumSegments == 45, "45 × 1,420 bytes fit one IP datagram")
        var writes: [AddressedEnvelope<ByteBuffer>] = []
        for tag in 0..<100 { writes += batch.add(Self.packet(tag), to: Self.a) }
        let last = batch.take()
        writes += [try #require(last)]
        #expect(writes.map(\.data.readableBytes) == [45 * 1_420, 45 * 1_420, 10 * 1_420])
        #expect(writes.allSatisfy { $0.metadata?.segmentSize == 1_420 })
        let sent = Self.wire(writes)
        #expect(sent.count == 100 && sent.enumerated().allSatisfy { $0.element.1 == Self.packet($0.offset) && $0.element.0 == Self.a })
        #expect(batch.take() == nil, "taken once")
    }

    /// An ack (shorter) or a packet to another address sends the batch first: the order on
    /// the wire is the order of the calls.
    @Test func whatCannotJoinSendsTheBatchFirst() throws {
        var batch = UTPDatagramBatch(segmentSize: 1_420)
        var writes: [AddressedEnvelope<ByteBuffer>] = []
        let calls: [(Int, Int, SocketAddress)] = [(0, 1_420, Self.a), (1, 1_420, Self.a), (2, 26, Self.a), (3, 1_420, Self.a),
                                                  (4, 1_420, Self.b), (5, 1_420, Self.b), (6, 1_420, Self.a)]
        for (tag, size, to) in calls { writes += batch.add(Self.packet(tag, size: size), to: to) }
        let last = batch.take()
        writes += [try #require(last)]
        #expect(writes.map(\.data.readableBytes) == [2 * 1_420, 26, 1_420, 2 * 1_420, 1_420])
        // A lone packet goes as a plain datagram, with no segment size the kernel would check.
        #expect(writes.map { $0.metadata?.segmentSize } == [1_420, nil, nil, 1_420, nil])
        let sent = Self.wire(writes)
        #expect(sent.map(\.1) == calls.map { Self.packet($0.0, size: $0.1) })
        #expect(sent.map(\.0) == calls.map(\.2))
    }

    /// A read the kernel merged is cut at its segment size, the last datagram shorter; a read
    /// without one (or no longer than it) is one datagram.
    @Test func mergedReadsAreCutBackIntoDatagrams() {
        var data = ByteBuffer()
        for tag in 0..<3 { data.writeBytes(Self.packet(tag)) }
        data.writeBytes(Self.packet(3, size: 100))
        let merged = AddressedEnvelope(remoteAddress: Self.a, data: data,
                                       metadata: .init(ecnState: .transportNotCapable, packetInfo: nil, segmentSize: 1_420))
        let datagrams = UTPDatagramBatch.datagrams(of: merged)
        #expect(datagrams.map { Array($0.data.readableBytesView) } == [Self.packet(0), Self.packet(1), Self.packet(2), Self.packet(3, size: 100)])
        #expect(UTPDatagramBatch.datagrams(of: AddressedEnvelope(remoteAddress: Self.a, data: data)).count == 1)
        let single = AddressedEnvelope(remoteAddress: Self.a, data: ByteBuffer(bytes: Self.packet(9)),
                                       metadata: .init(ecnState: .transportNotCapable, packetInfo: nil, segmentSize: 1_420))
        #expect(UTPDatagramBatch.datagrams(of: single).count == 1)
    }
}
