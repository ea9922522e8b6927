import ShoalTestSupport
import Testing
@testable import ShoalCore

@Suite("DHT: KRPC, routing table, tokens, lookups (BEP 5)")
struct DHTMessageTests {
    static let a = NodeID(bytes: Array("abcdefghij0123456789".utf8))!
    static let m = NodeID(bytes: Array("mnopqrstuvwxyz123456".utf8))!

    /// BEP 5's own examples, byte for byte.
    static let vectors: [(String, KRPCMessage)] = [
        ("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe", .init(transactionID: Array("aa".utf8), body: .query(.ping(id: a)))),
        ("d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re", .init(transactionID: Array("aa".utf8), body: .response(.init(id: m)))),
        ("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
         .init(transactionID: Array("aa".utf8), body: .error(code: 201, message: "A Generic Error Ocurred"))),
        ("d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
         .init(transactionID: Array("aa".utf8), body: .query(.findNode(id: a, target: m)))),
        ("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe",
         .init(transactionID: Array("aa".utf8), body: .query(.getPeers(id: a, infoHash: InfoHash(bytes: m.bytes)!)))),
        ("d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
         .init(transactionID: Array("aa".utf8), body: .query(.announcePeer(id: a, infoHash: InfoHash(bytes: m.bytes)!, port: 6881,
                                                                          token: Array("aoeusnth".utf8), impliedPort: true)))),
        ("d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
         .init(transactionID: Array("aa".utf8), body: .response(.init(id: a, values: [PeerAddress(host: "97.120.106.101", port: 11893),
                                                                                       PeerAddress(host: "105.100.104.116", port: 28269)],
                                                                       token: Array("aoeusnth".utf8))))),
    ]

    @Test("BEP 5 example messages", arguments: vectors)
    func vector(text: String, message: KRPCMessage) throws {
        #expect(try KRPCMessage(parsing: Array(text.utf8)) == message)
        #expect(message.encoded == Array(text.utf8))
    }

    static let malformed: [(String, Int?)] = [
        ("", nil), ("garbage", nil), ("d1:y1:qe", nil), ("le", nil),
        ("d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe", 203),
        ("d1:ad2:id20:abcdefghij0123456789e1:q5:steal1:t2:aa1:y1:qe", 204),
        ("d1:t2:aa1:y1:qe", 203),
        ("d1:rd2:id20:mnopqrstuvwxyz1234565:nodes3:abce1:t2:aa1:y1:re", 203),
        ("d1:eli201ee1:t2:aa1:y1:ee", 203),
        ("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti0e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", 203),
    ]

    @Test("malformed messages: an error code when a reply is possible, never a crash", arguments: malformed)
    func malformedMessage(text: String, code: Int?) {
        do {
            _ = try KRPCMessage(parsing: Array(text.utf8))
            Issue.record("parsed \(text)")
        } catch {
            #expect((error.transactionID == nil ? nil : error.code) == code, "\(text): \(error)")
        }
    }

    @Test func randomBytesNeverCrashTheParser() {
        var rng = SeededRandom(seed: 5)
        for _ in 0..<5_000 {
            let bytes = (0..<Int.random(in: 0...120, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = try? KRPCMessage(parsing: bytes)
            // Bencode-shaped noise gets past the first check.
            var shaped = Array("d1:ad2:id20:".utf8) + (0..<20).map { _ in UInt8.random(in: 0...255, using: &rng) }
            shaped += Array("e1:q".utf8) + bytes + Array("e".utf8)
            _ = try? KRPCMessage(parsing: shaped)
        }
    }

    /// Whatever is inserted, every bucket holds at most 8 nodes, each in the bucket its shared
    /// prefix says, never our own id; `closest` matches a brute-force sort of what was kept.
    @Test(arguments: [1, 2, 3])
    func routingTableProperties(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let own = NodeID.random(using: &rng)
        var table = RoutingTable(ownID: own)
        let now = ContinuousClock.now
        var inserted: [DHTNodeInfo] = []
        for n in 0..<3_000 {
            // Some ids close to ours, to fill the deep buckets too.
            var bytes = NodeID.random(using: &rng).bytes
            let shared = Int.random(in: 0...24, using: &rng)
            for bit in 0..<shared {
                let mask = UInt8(0x80) >> UInt8(bit % 8)
                bytes[bit / 8] = (bytes[bit / 8] & ~mask) | (own.bytes[bit / 8] & mask)
            }
            let node = DHTNodeInfo(id: NodeID(bytes: bytes)!, address: PeerAddress(host: "10.0.\(n / 250).\(n % 250)", port: 6881))
            if table.heard(from: node, now: now) { inserted.append(node) }
            if n % 7 == 0, let victim = inserted.randomElement(using: &rng) { table.failed(victim.id) }
        }
        let tookOwn = table.heard(from: DHTNodeInfo(id: own, address: PeerAddress(host: "1.1.1.1", port: 1)), now: now)
        #expect(!tookOwn)
        for (index, bucket) in table.buckets.enumerated() {
            #expect(bucket.count <= RoutingTable.bucketSize)
            for entry in bucket { #expect(min(159, own.commonPrefixLength(with: entry.node.id)) == index) }
        }
        let target = NodeID.random(using: &rng)
        let kept = table.buckets.joined().filter { table.standing($0, now: now) != .bad }.map(\.node)
        let brute = kept.sorted { target.isCloser($0.id, than: $1.id) }.prefix(8).map(\.id)
        #expect(table.closest(to: target, now: now).map(\.id) == Array(brute))
    }

    @Test func tokensWorkForOneRotationAndOneAddress() {
        var rng = SeededRandom(seed: 8)
        let start = ContinuousClock.now
        var secrets = TokenSecrets(now: start, using: &rng)
        let token = secrets.token(for: "10.0.0.1")
        #expect(secrets.isValid(token, for: "10.0.0.1") && !secrets.isValid(token, for: "10.0.0.2"))
        secrets.rotateIfDue(now: start + .seconds(60), using: &rng)
        #expect(secrets.isValid(token, for: "10.0.0.1"), "no rotation before five minutes")
        secrets.rotateIfDue(now: start + .seconds(301), using: &rng)
        #expect(secrets.isValid(token, for: "10.0.0.1"), "the previous secret still counts")
        secrets.rotateIfDue(now: start + .seconds(602), using: &rng)
        #expect(!secrets.isValid(token, for: "10.0.0.1"))
    }

    /// A lookup over 300 simulated nodes (each answering from its own full table) converges on the
    /// true closest nodes and finds the peer stored at the closest one, in a bounded number of
    /// queries.
    @Test func lookupConvergesOnASimulatedNetwork() {
        var rng = SeededRandom(seed: 13)
        let now = ContinuousClock.now
        let infos = (0..<300).map { DHTNodeInfo(id: NodeID.random(using: &rng), address: PeerAddress(host: "10.1.\($0 / 200).\($0 % 200)", port: 6881)) }
        var tables = infos.map { RoutingTable(ownID: $0.id) }
        for index in tables.indices {
            // Every node has heard of every other; buckets keep at most 8 each, as in a settled DHT.
            for other in infos.shuffled(using: &rng) { tables[index].heard(from: other, now: now) }
        }
        let target = NodeID.random(using: &rng)
        let truth = infos.sorted { target.isCloser($0.id, than: $1.id) }
        var stores = [DHTPeerStore](repeating: DHTPeerStore(), count: 300)
        let closestIndex = infos.firstIndex { $0.id == truth[0].id }!
        stores[closestIndex].add(PeerAddress(host: "10.9.9.9", port: 51413), for: InfoHash(bytes: target.bytes)!, now: now)
        var lookup = DHTLookup(target: target, start: tables[0].closest(to: target))
        var queries = 0
        while !lookup.isDone {
            let batch = lookup.next()
            if batch.isEmpty { break }
            for node in batch {
                queries += 1
                let index = infos.firstIndex { $0.id == node.id }!
                let values = stores[index].peers(for: InfoHash(bytes: target.bytes)!, now: now)
                lookup.answered(node.id, nodes: tables[index].closest(to: target, now: now), values: values, token: [1])
            }
        }
        #expect(lookup.peers == [PeerAddress(host: "10.9.9.9", port: 51413)], "after \(queries) queries")
        #expect(Array(lookup.closestAnswered.map(\.0.id).prefix(3)) == truth.prefix(3).map(\.id))
        #expect(queries < 120)
    }

    @Test func refreshTargetsFallInTheirBucket() {
        var rng = SeededRandom(seed: 61)
        for _ in 0..<50 {
            let own = NodeID.random(using: &rng)
            for prefix in [0, 1, 2, 7, 8, 9, 100, 159] {
                #expect(own.commonPrefixLength(with: own.random(sharing: prefix, using: &rng)) == prefix, "bucket \(prefix)")
            }
        }
    }

    @Test func storedPeersExpireAndAreBounded() {
        var store = DHTPeerStore()
        let start = ContinuousClock.now
        let hash = InfoHash(bytes: [UInt8](repeating: 9, count: 20))!
        store.add(PeerAddress(host: "10.0.0.1", port: 1), for: hash, now: start)
        #expect(store.peers(for: hash, now: start + .seconds(60)).count == 1)
        #expect(store.peers(for: hash, now: start + .seconds(31 * 60)).isEmpty, "announces last 30 minutes")
        for n in 0..<(DHTPeerStore.maxPerTorrent + 100) {
            store.add(PeerAddress(host: "10.1.\(n / 250).\(n % 250)", port: 2), for: hash, now: start + .seconds(n))
        }
        #expect(store.peers(for: hash, count: 10_000, now: start + .seconds(700)).count == DHTPeerStore.maxPerTorrent)
        store.expire(now: start + .seconds(3_000))
        #expect(store.torrentCount == 0)
    }
}
