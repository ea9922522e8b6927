import ShoalCore
import Testing

/// One UDP socket's uTP connections: datagrams routed by address and id, the DHT's passed on,
/// SYNs accepted or refused with a RESET, strangers answered (at a bounded rate), dial ids unique.
@Suite("uTP socket table")
struct UTPSocketTableTests {
    typealias Table = UTPSocketTable<String>
    static let now = ContinuousClock.now

    static func syn(id: UInt16, sequence: UInt16 = 1) -> [UInt8] {
        UTPPacket(kind: .syn, connectionID: id, sequence: sequence, ack: 0).encoded()
    }

    @Test func theDHTsDatagramsAndJunkAreTold() {
        var table = Table(limit: 10)
        guard case .notUTP = table.route(Array("d1:ad2:id20:".utf8), from: "a", now: Self.now) else { Issue.record("KRPC not passed on"); return }
        guard case .notUTP = table.route([], from: "a", now: Self.now) else { Issue.record("empty datagram"); return }
        guard case .drop(let why) = table.route([0x41, 0, 1], from: "a", now: Self.now) else { Issue.record("short uTP taken"); return }
        #expect(why.contains("shorter than a uTP header"))
    }

    /// A SYN opens a connection keyed by its id + 1; its later packets and a repeated SYN go to
    /// it; the same id from another address is another peer's (refused with a RESET there).
    @Test func synsOpenConnectionsAndLaterPacketsFindThem() throws {
        var table = Table(limit: 10)
        guard case .accept(let key, let syn) = table.route(Self.syn(id: 500), from: "a:1", now: Self.now) else {
            Issue.record("SYN not accepted"); return
        }
        #expect(key == Table.Key(address: "a:1", receiveID: 501) && syn.connectionID == 500)
        table.insert(key)
        guard case .connection(let again, _) = table.route(Self.syn(id: 500), from: "a:1", now: Self.now), again == key else {
            Issue.record("repeated SYN not routed to its connection"); return
        }
        let data = UTPPacket(kind: .data, connectionID: 501, sequence: 2, ack: 9, payload: [1]).encoded()
        guard case .connection(let found, let packet) = table.route(data, from: "a:1", now: Self.now), found == key else {
            Issue.record("data not routed"); return
        }
        #expect(packet.payload == [1])
        guard case .reply(let reset, _) = table.route(data, from: "b:1", now: Self.now) else { Issue.record("stranger not answered"); return }
        #expect(reset.kind == .reset && reset.connectionID == 501 && reset.ack == 2)
        // Their RESET, one off either way, ends our connection; a RESET for nothing is dropped.
        let theirReset = UTPPacket(kind: .reset, connectionID: 500, sequence: 0, ack: 0).encoded()
        guard case .connection(let reseted, _) = table.route(theirReset, from: "a:1", now: Self.now), reseted == key else {
            Issue.record("RESET not routed"); return
        }
        guard case .drop = table.route(theirReset, from: "c:1", now: Self.now) else { Issue.record("stray RESET answered"); return }
        table.remove(key)
        #expect(table.count == 0)
    }

    /// Past the limit, or with incoming uTP off, a SYN gets a RESET naming the id it came with
    /// (the dialler's receive id), so it falls back to TCP at once; RESETs are rate-limited.
    @Test func refusedSynsAreResetAndResetsAreBounded() {
        var table = Table(limit: 1)
        table.insert(Table.Key(address: "x", receiveID: 1))
        guard case .reply(let reset, _) = table.route(Self.syn(id: 77, sequence: 40), from: "a", now: Self.now) else {
            Issue.record("SYN past the limit not refused"); return
        }
        #expect(reset.kind == .reset && reset.connectionID == 77 && reset.ack == 40)
        var closed = Table(limit: 10, acceptsIncoming: false)
        var answered = 0
        var dropped: [String] = []
        for id in 0..<100 {
            switch closed.route(Self.syn(id: UInt16(id)), from: "a", now: Self.now + .milliseconds(id)) {
            case .reply: answered += 1
            case .drop(let why): dropped.append(why)
            default: Issue.record("SYN accepted while incoming uTP is off")
            }
        }
        #expect(answered == Table.resetsPerSecond && dropped.allSatisfy { $0.contains("too many RESETs") })
        // A second later, answered again.
        guard case .reply = closed.route(Self.syn(id: 1), from: "a", now: Self.now + .seconds(2)) else { Issue.record("not answered later"); return }
    }

    /// Dial ids never collide with a connection to the same address, nor with its neighbours
    /// (the answering side receives on id + 1).
    @Test func dialIdsAreUniquePerAddress() throws {
        var table = Table(limit: 5_000)
        var random = SplitMix64(seed: 3)
        var ids: [UInt16] = []
        for _ in 0..<2_000 {
            let key = try #require(table.reserveDialID(to: "peer", using: &random))
            ids.append(key.receiveID)
        }
        let taken = Set(ids)
        #expect(taken.count == ids.count)
        #expect(ids.allSatisfy { !taken.contains($0 &+ 1) && !taken.contains($0 &- 1) })
        var full = Table(limit: 1)
        _ = full.reserveDialID(to: "a", using: &random)
        #expect(full.reserveDialID(to: "b", using: &random) == nil)
    }
}
