import ShoalTestSupport
import Testing
@testable import ShoalCore

/// BEP 32: `nodes6`, 18-byte `values`, `want`, and a responder with one table per family.
@Suite("DHT over IPv6 (BEP 32)")
struct DHTIPv6MessageTests {
    static let a = NodeID(bytes: Array("abcdefghij0123456789".utf8))!
    static let m = NodeID(bytes: Array("mnopqrstuvwxyz123456".utf8))!
    static let loopback6 = [UInt8](repeating: 0, count: 15) + [1]

    @Test func wantIsWrittenAndReadAsBEP32Spells() throws {
        let text = "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:wantl2:n42:n6ee1:q9:find_node1:t2:aa1:y1:qe"
        let message = KRPCMessage(transactionID: Array("aa".utf8), body: .query(.findNode(id: Self.a, target: Self.m, want: [.ipv6, .ipv4])))
        #expect(message.encoded == Array(text.utf8))
        #expect(try KRPCMessage(parsing: Array(text.utf8)).body == .query(.findNode(id: Self.a, target: Self.m, want: [.ipv4, .ipv6])))
        // Unknown families and repeats are ignored; no `want` is the empty list.
        let odd = "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:wantl2:n62:n92:n6i4eee1:q9:get_peers1:t2:aa1:y1:qe"
        #expect(try KRPCMessage(parsing: Array(odd.utf8)).body
            == .query(.getPeers(id: Self.a, infoHash: InfoHash(bytes: Self.m.bytes)!, want: [.ipv6])))
        let plain = "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe"
        #expect(try KRPCMessage(parsing: Array(plain.utf8)).body == .query(.findNode(id: Self.a, target: Self.m)))
    }

    @Test func nodesOfEachFamilyGoInTheirOwnKey() throws {
        let four = DHTNodeInfo(id: Self.m, address: PeerAddress(host: "1.2.3.4", port: 0x1A2B))
        let six = DHTNodeInfo(id: Self.a, address: PeerAddress(host: "::1", port: 0x1A2C))
        let response = KRPCMessage(transactionID: [7], body: .response(.init(id: Self.a, nodes: [four, six])))
        let expected: [UInt8] = Array("d1:rd2:id20:abcdefghij01234567895:nodes26:".utf8) + Self.m.bytes + [1, 2, 3, 4, 0x1A, 0x2B]
            + Array("6:nodes638:".utf8) + Self.a.bytes + Self.loopback6 + [0x1A, 0x2C] + Array("e1:t1:".utf8) + [7] + Array("1:y1:re".utf8)
        #expect(response.encoded == expected)
        #expect(try KRPCMessage(parsing: expected) == response)
    }

    @Test func valuesOfEitherFamilyAreRead() throws {
        let peers = [PeerAddress(host: "::1", port: 6881), PeerAddress(host: "2001:db8::7", port: 80), PeerAddress(host: "203.0.113.1", port: 1)]
        let response = KRPCMessage(transactionID: [1], body: .response(.init(id: Self.a, values: peers, token: [9])))
        let parsed = try KRPCMessage(parsing: response.encoded)
        guard case .response(let back) = parsed.body else { Issue.record("not a response"); return }
        #expect(back.values == peers)
        // An entry of another length is skipped, not fatal.
        let odd = Array("d1:rd2:id20:abcdefghij01234567896:valuesl5:abcde6:axje.uee1:t1:x1:y1:re".utf8)
        guard case .response(let some) = try KRPCMessage(parsing: odd).body else { Issue.record("not a response"); return }
        #expect(some.values == [PeerAddress(host: "97.120.106.101", port: 11893)])
    }

    @Test func aBadNodes6IsAProtocolError() {
        let bad = Array("d1:rd2:id20:abcdefghij01234567896:nodes65:abcdee1:t2:aa1:y1:re".utf8)
        #expect(throws: KRPCMessage.ParseError.self) { try KRPCMessage(parsing: bad) }
        do {
            _ = try KRPCMessage(parsing: bad)
        } catch {
            #expect(error.code == KRPCMessage.protocolError && error.description.contains("nodes6"))
        }
    }

    /// A responder holding both tables answers in the asker's family unless asked for others,
    /// and hands out stored peers of the asker's family only.
    @Test func theResponderAnswersInTheFamilyAsked() {
        var rng = SeededRandom(seed: 32)
        let now = ContinuousClock.now
        let own = NodeID.random(using: &rng)
        var tables: [DHTFamily: RoutingTable] = [.ipv4: RoutingTable(ownID: own), .ipv6: RoutingTable(ownID: own)]
        for index in 1...5 {
            tables[.ipv4]!.heard(from: DHTNodeInfo(id: .random(using: &rng), address: PeerAddress(host: "127.0.0.\(index)", port: 7000)), now: now)
            tables[.ipv6]!.heard(from: DHTNodeInfo(id: .random(using: &rng), address: PeerAddress(host: "2001:db8::\(index)", port: 7000)), now: now)
        }
        var store = DHTPeerStore()
        let hash = InfoHash(bytes: [UInt8](repeating: 3, count: 20))!
        store.add(PeerAddress(host: "127.0.0.9", port: 1), for: hash, now: now)
        store.add(PeerAddress(host: "::9", port: 2), for: hash, now: now)
        let tokens = TokenSecrets(now: now, using: &rng)
        let askerID = NodeID.random(using: &rng)
        func families(_ query: KRPCMessage.Query, from host: String) -> (nodes: Set<DHTFamily>, values: [PeerAddress]) {
            let reply = DHTResponder.respond(to: query, transactionID: [1], from: PeerAddress(host: host, port: 9), ownID: own,
                                             tables: tables, store: &store, tokens: tokens, now: now)
            guard case .response(let response) = reply.body else { return ([], []) }
            return (Set(response.nodes.map(\.family)), response.values)
        }
        #expect(families(.findNode(id: askerID, target: own), from: "::1").nodes == [.ipv6])
        #expect(families(.findNode(id: askerID, target: own), from: "127.0.0.1").nodes == [.ipv4])
        #expect(families(.findNode(id: askerID, target: own, want: [.ipv4, .ipv6]), from: "127.0.0.1").nodes == [.ipv4, .ipv6])
        #expect(families(.findNode(id: askerID, target: own, want: [.ipv6]), from: "127.0.0.1").nodes == [.ipv6])
        let six = families(.getPeers(id: askerID, infoHash: hash), from: "::1")
        #expect(six.values == [PeerAddress(host: "::9", port: 2)] && six.nodes.isEmpty)
        let four = families(.getPeers(id: askerID, infoHash: hash, want: [.ipv4, .ipv6]), from: "127.0.0.1")
        #expect(four.values == [PeerAddress(host: "127.0.0.9", port: 1)] && four.nodes == [.ipv4, .ipv6])
        // A family the node does not run in gives nothing, not a crash.
        tables[.ipv6] = nil
        #expect(families(.findNode(id: askerID, target: own, want: [.ipv6]), from: "::1").nodes.isEmpty)
    }
}
