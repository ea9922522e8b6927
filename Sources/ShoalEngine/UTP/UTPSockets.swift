import Logging
import NIOCore
import NIOPosix
import ShoalCore
import Synchronization

/// uTP on the peer port's UDP sockets, one endpoint per address family: in the DHT's sockets
/// when the DHT runs (they share the port, told apart by each datagram's first byte), else in
/// sockets of its own. Dials go to the endpoint of the peer's family; connections peers open
/// come out of `incoming` for the session to take like accepted TCP connections.
final class UTPSockets: Sendable {
    private let endpoints = Mutex<[DHTFamily: NIOLoopBound<UTPEndpoint>]>([:])
    private let owned = Mutex<[any Channel]>([])
    let incoming: AsyncStream<UTPEndpoint.Accepted>
    private let sink: AsyncStream<UTPEndpoint.Accepted>.Continuation
    let settings: UTPConnection.Settings
    let limit: Int
    let logger: Logger

    init(settings: UTPConnection.Settings = UTPConnection.Settings(), limit: Int, logger: Logger) {
        self.settings = settings
        self.limit = limit
        self.logger = logger
        (incoming, sink) = AsyncStream.makeStream(of: UTPEndpoint.Accepted.self, bufferingPolicy: .unbounded)
    }

    /// The UDP socket's buffers: the default 208 KiB holds about 90 datagrams, and a receiver
    /// busy for a millisecond dropped 1 % of a loopback transfer's packets, each read as loss.
    /// The kernel caps this at `net.core.rmem_max`/`wmem_max`.
    static let socketBuffer = 4 << 20
    /// Datagrams taken per read call (recvmmsg). NIO divides one buffer among them: 2 KiB each,
    /// or 64 KiB each when the kernel merges a batch of datagrams into one read (`UDP_GRO`,
    /// the receiving half of `UTPDatagramBatch`).
    static let datagramsPerRead = 32
    static let mergedReadsPerRead = 8

    /// Puts an endpoint into `channel`'s pipeline, before whatever reads the rest; call on its
    /// event loop, from the channel's initializer.
    func install(in channel: any Channel, family: DHTFamily) throws {
        if let options = channel.syncOptions {
            try options.setOption(.socketOption(.so_rcvbuf), value: Self.socketBuffer)
            try options.setOption(.socketOption(.so_sndbuf), value: Self.socketBuffer)
            var reads = Self.datagramsPerRead
            var readSize = 2_048
            if System.supportsUDPReceiveOffload {
                try options.setOption(.datagramReceiveOffload, value: true)
                try options.setOption(.datagramReceiveSegmentSize, value: true)
                reads = Self.mergedReadsPerRead
                readSize = 65_536
            }
            try options.setOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: reads * readSize))
            try options.setOption(.datagramVectorReadMessageCount, value: reads)
        }
        let sink = self.sink
        let endpoint = UTPEndpoint(settings: settings, limit: limit, logger: logger) { sink.yield($0) }
        try channel.pipeline.syncOperations.addHandler(endpoint)
        endpoints.withLock { $0[family] = NIOLoopBound(endpoint, eventLoop: channel.eventLoop) }
    }

    /// Sockets of its own (the DHT is off) on the first IPv4 and first IPv6 of `addresses`, at
    /// `port`; returns what could not be bound.
    func bind(_ addresses: [String], port: Int) async -> [String] {
        var problems: [String] = []
        var families = Set<DHTFamily>()
        for address in addresses where families.insert(DHTFamily(host: address)).inserted {
            let family = DHTFamily(host: address)
            var bootstrap = DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            if family == .ipv6 {
                bootstrap = bootstrap.channelOption(ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 1)
            }
            let logger = self.logger
            do {
                let channel = try await bootstrap.channelInitializer { [self] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DatagramErrorFilter(logger: logger))
                        try self.install(in: channel, family: family)
                    }
                }.bind(host: address, port: port).get()
                owned.withLock { $0.append(channel) }
            } catch {
                problems.append("uTP over \(family.name) off: cannot listen on UDP \(PeerAddress(host: address, port: UInt16(port))): \(error)")
            }
        }
        return problems
    }

    var isListening: Bool { endpoints.withLock { !$0.isEmpty } }

    /// A uTP connection to `address`: the descriptor of its stream, for the caller to wrap.
    func connect(to address: PeerAddress) async throws -> CInt {
        guard let endpoint = endpoints.withLock({ $0[DHTFamily(of: address)] }) else {
            throw UTPEndpoint.Failure(description: "no uTP socket for \(DHTFamily(of: address).name)")
        }
        let remote = try SocketAddress(ipAddress: address.host, port: Int(address.port))
        return try await endpoint.eventLoop.flatSubmit { endpoint.value.connect(to: remote) }.get()
    }

    /// The stream of a uTP connection as a channel: no TCP options on a Unix socket pair.
    static func bootstrap(_ group: any EventLoopGroup) -> ClientBootstrap {
        ClientBootstrap(group: group).channelOption(.recvAllocator, value: PeerConnection.receiveAllocator)
    }

    func shutdown() async {
        sink.finish()
        for channel in owned.withLock({ $0 }) { try? await channel.close() }
    }
}
