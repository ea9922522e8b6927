import NIOCore
import NIOPosix
import ShoalCore
import Synchronization

/// A fake peer on 127.0.0.1 that claims to have every piece and answers each request with data
/// from `answer` — garbage, for a corrupt peer. It counts the connections it saw close.
public final class ScriptedPeer: Sendable {
    typealias Channel = NIOAsyncChannel<ByteBuffer, ByteBuffer>
    let server: NIOAsyncChannel<Channel, Never>
    public let port: Int
    public let metainfo: Metainfo
    let answer: @Sendable (BlockRequest) -> [UInt8]
    public let id = PeerID(bytes: Array("-XX0001-corruptpeer1".utf8))!
    public let connections = Atomic<Int>(0)
    public let closed = Atomic<Int>(0)
    public let blocksSent = Atomic<Int>(0)

    /// The hash its handshake answers with: the torrent's, or (a hybrid's v2 hash cut to 20
    /// bytes) one that upgrades the connection to v2 as libtorrent 2 may (BEP 52).
    let handshakeHash: InfoHash

    public init(metainfo: Metainfo, handshakeHash: InfoHash? = nil, answer: @escaping @Sendable (BlockRequest) -> [UInt8]) async throws {
        self.metainfo = metainfo
        self.handshakeHash = handshakeHash ?? metainfo.infoHash
        self.answer = answer
        server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture { try Channel(wrappingChannelSynchronously: channel) }
            }
        port = server.channel.localAddress!.port!
    }

    public var address: PeerAddress { PeerAddress(host: "127.0.0.1", port: UInt16(port)) }

    public func run() async {
        try? await server.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in inbound {
                    group.addTask { await self.serve(connection) }
                }
            }
        }
    }

    public func stop() async { try? await server.channel.close() }

    private func serve(_ connection: Channel) async {
        connections.add(1, ordering: .relaxed)
        defer { closed.add(1, ordering: .relaxed) }
        let geometry = metainfo.info.geometry
        try? await connection.executeThenClose { inbound, outbound in
            var decoder = PeerWireDecoder(pieceCount: geometry.pieceCount)
            var shookHands = false
            for try await buffer in inbound {
                decoder.append(buffer.readableBytesView)
                if !shookHands {
                    guard decoder.takeRaw(68) != nil else { continue }
                    shookHands = true
                    var out = Handshake(infoHash: handshakeHash, peerID: id).encoded
                    PeerMessage.bitfield(Bitfield(count: geometry.pieceCount, allSet: true).bytes).encode(into: &out)
                    PeerMessage.unchoke.encode(into: &out)
                    try await outbound.write(ByteBuffer(bytes: out))
                }
                while let message = try decoder.next() {
                    guard case .request(let index, let offset, let length) = message,
                        let block = geometry.request(piece: index, offset: offset, length: length)
                    else { continue }
                    blocksSent.add(1, ordering: .relaxed)
                    try await outbound.write(ByteBuffer(bytes: PeerMessage.piece(piece: index, offset: offset, data: answer(block)).encoded))
                }
            }
        }
    }
}
