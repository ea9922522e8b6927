import NIOCore

/// Full-size uTP packets to one address, gathered into one write the kernel cuts back into
/// datagrams (UDP segmentation offload, `UDP_SEGMENT`), and the reverse for a read the kernel
/// merged (`UDP_GRO`). One system call and one trip through the IP stack per batch instead of
/// per 1,400 bytes: on loopback that cost, not the protocol, held a uTP transfer at a fraction
/// of TCP's rate. Order is kept: anything that cannot join the batch sends it first.
struct UTPDatagramBatch {
    /// Bytes of each datagram in a batch: a data packet with no extension, full payload.
    let segmentSize: Int
    /// Datagrams per write at most: the kernel takes 64, and the whole must fit one IP datagram.
    let maximumSegments: Int
    private var buffer: ByteBuffer?
    private var remote: SocketAddress?
    private var count = 0

    init(segmentSize: Int) {
        self.segmentSize = segmentSize
        maximumSegments = max(1, min(64, 65_000 / segmentSize))
    }

    /// Takes one encoded packet for `remote`. Returns the writes that must go out before it, in
    /// order (the batch so far, then the packet itself when it cannot join one).
    mutating func add(_ packet: [UInt8], to remote: SocketAddress) -> [AddressedEnvelope<ByteBuffer>] {
        var writes: [AddressedEnvelope<ByteBuffer>] = []
        guard packet.count == segmentSize else {
            if let batch = take() { writes.append(batch) }
            writes.append(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: packet)))
            return writes
        }
        if count == maximumSegments || (self.remote != nil && self.remote != remote), let batch = take() { writes.append(batch) }
        if buffer == nil {
            buffer = ByteBuffer()
            buffer?.reserveCapacity(segmentSize * maximumSegments)
            self.remote = remote
        }
        buffer?.writeBytes(packet)
        count += 1
        return writes
    }

    /// The batch gathered so far as one write (a lone packet as a plain datagram), if any.
    mutating func take() -> AddressedEnvelope<ByteBuffer>? {
        guard let buffer, let remote else { return nil }
        let batched = count > 1
        self.buffer = nil
        self.remote = nil
        count = 0
        return AddressedEnvelope(remoteAddress: remote, data: buffer,
                                 metadata: batched ? .init(ecnState: .transportNotCapable, packetInfo: nil, segmentSize: segmentSize) : nil)
    }

    /// The datagrams of a read: a read the kernel merged (its segment size in the metadata) cut
    /// back into them, the last possibly shorter; any other read as it is.
    static func datagrams(of envelope: AddressedEnvelope<ByteBuffer>) -> [AddressedEnvelope<ByteBuffer>] {
        guard let size = envelope.metadata?.segmentSize, size > 0, envelope.data.readableBytes > size else { return [envelope] }
        var data = envelope.data
        var datagrams: [AddressedEnvelope<ByteBuffer>] = []
        while data.readableBytes > 0, let segment = data.readSlice(length: min(size, data.readableBytes)) {
            datagrams.append(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: segment))
        }
        return datagrams
    }
}
