import NIOCore
import NIOPosix
import ShoalCore

/// Announces and scrapes over UDP (BEP 15): connect, then announce or scrape, each exchange on a
/// fresh socket, retried with the spec's doubling timeout (15 s, 30 s, ... ; shorter in tests).
public enum UDPTrackerClient {
    public struct Retry: Sendable {
        public var firstTimeout: Duration
        public var attempts: Int
        public init(firstTimeout: Duration = .seconds(15), attempts: Int = 4) {
            self.firstTimeout = firstTimeout
            self.attempts = attempts
        }
    }

    typealias Channel = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>

    static func split(_ url: String) throws(AnnounceResponse.Failure) -> (host: String, port: Int) {
        guard url.lowercased().hasPrefix("udp://") else { throw .malformed("not a udp:// URL: \(url)") }
        var rest = url.dropFirst("udp://".count)
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        var host = String(rest)
        var port = 0
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            port = Int(rest[rest.index(after: close)...].dropFirst()) ?? 0
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            port = Int(rest[rest.index(after: colon)...]) ?? 0
        }
        guard !host.isEmpty, port > 0, port < 65536 else { throw .malformed("no host or port in \(url)") }
        return (host, port)
    }

    public static func announce(_ request: AnnounceRequest, to url: String, retry: Retry) async throws(AnnounceResponse.Failure) -> AnnounceResponse {
        let reply = try await exchange(url: url, retry: retry) { connection, transaction in
            .announce(UDPTrackerPacket.Announce(connectionID: connection, transactionID: transaction, request: request))
        }
        guard case .announce(_, let interval, let leechers, let seeders, let peers) = reply else {
            throw .malformed("unexpected reply to an announce")
        }
        return AnnounceResponse(interval: interval, peers: peers, complete: seeders, incomplete: leechers)
    }

    public static func scrape(_ hashes: [InfoHash], at url: String, retry: Retry) async throws(AnnounceResponse.Failure)
        -> [ScrapeCounts]
    {
        let reply = try await exchange(url: url, retry: retry) { connection, transaction in
            .scrape(connectionID: connection, transactionID: transaction, hashes: hashes)
        }
        guard case .scrape(_, let counts) = reply, counts.count == hashes.count else {
            throw .malformed("unexpected reply to a scrape")
        }
        return counts
    }

    /// connect + one request, with retries; a tracker error packet ends it at once.
    private static func exchange(url: String, retry: Retry,
                                 request: @escaping @Sendable (UInt64, UInt32) -> UDPTrackerPacket.Request)
        async throws(AnnounceResponse.Failure) -> UDPTrackerPacket.Response
    {
        let (host, port) = try split(url)
        let address: SocketAddress
        do {
            address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        } catch {
            throw .malformed("cannot resolve \(host): \(error)")
        }
        var timeout = retry.firstTimeout
        var lastError = "no answer"
        for _ in 0..<max(1, retry.attempts) {
            do {
                return try await attempt(address: address, timeout: timeout, request: request)
            } catch let failure as AnnounceResponse.Failure {
                throw failure
            } catch {
                lastError = "\(error)"
            }
            timeout = timeout * 2
        }
        throw .malformed("no answer from \(url) (\(lastError))")
    }

    struct TimedOut: Error, CustomStringConvertible {
        var description: String { "timed out" }
    }

    private static func attempt(address: SocketAddress, timeout: Duration,
                                request: @Sendable (UInt64, UInt32) -> UDPTrackerPacket.Request) async throws -> UDPTrackerPacket.Response {
        guard DescriptorBudget.shared.takeSocket() else { throw DescriptorBudget.Exhausted() }
        defer { DescriptorBudget.shared.giveSocket() }
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: address.protocol == .inet6 ? "::" : "0.0.0.0", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture { try Channel(wrappingChannelSynchronously: channel) }
            }
        let raw = channel.channel
        return try await withThrowingTaskGroup(of: Void.self) { group in
            // Closing the socket ends the read below: the only way to time out a pending read.
            group.addTask {
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                raw.close(promise: nil)
            }
            defer { group.cancelAll() }
            return try await channel.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                func send(_ packet: UDPTrackerPacket.Request) async throws -> UDPTrackerPacket.Response {
                    let transaction = UInt32.random(in: 0...UInt32.max)
                    let bytes: [UInt8]
                    switch packet {
                    case .connect: bytes = UDPTrackerPacket.encode(.connect(transactionID: transaction))
                    case .announce(var announce):
                        announce.transactionID = transaction
                        bytes = UDPTrackerPacket.encode(.announce(announce))
                    case .scrape(let connection, _, let hashes):
                        bytes = UDPTrackerPacket.encode(.scrape(connectionID: connection, transactionID: transaction, hashes: hashes))
                    }
                    try await outbound.write(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: bytes)))
                    while let envelope = try await iterator.next() {
                        guard let reply = try? UDPTrackerPacket.parseResponse(Array(envelope.data.readableBytesView), ipv6: address.protocol == .inet6),
                            reply.transactionID == transaction
                        else { continue }  // stray or forged packet: keep waiting
                        if case .error(_, let message) = reply { throw AnnounceResponse.Failure.rejected(message) }
                        return reply
                    }
                    throw TimedOut()
                }
                guard case .connect(_, let connection) = try await send(.connect(transactionID: 0)) else {
                    throw AnnounceResponse.Failure.malformed("expected a connect reply")
                }
                return try await send(request(connection, 0))
            }
        }
    }
}
