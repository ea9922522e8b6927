import ShoalCore
import ShoalTestSupport
import Testing
@testable import ShoalTracker

@Suite("Tracker swarm storage")
struct TrackerSwarmTests {
    static func id(_ n: Int) -> PeerID { PeerID(bytes: Array("-PT0001-\(String(n).padding(toLength: 12, withPad: "x", startingAt: 0))".utf8))! }

    /// Random updates, removals and expiries against a plain dictionary: same peers, same seed
    /// count; every sample is distinct, excludes the asker, honours `leechersOnly` and is as
    /// large as it can be.
    @Test(arguments: [1, 2, 3, 4])
    func matchesAModel(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var swarm = TrackerSwarm()
        var model: [PeerID: TrackerSwarm.Peer] = [:]
        let start = ContinuousClock.now
        for step in 0..<3000 {
            let n = Int.random(in: 0..<120, using: &rng)
            let now = start + .seconds(step)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<6:
                let peer = TrackerSwarm.Peer(id: Self.id(n), address: PeerAddress(host: "127.0.0.1", port: UInt16(1000 + n)),
                                             left: Bool.random(using: &rng) ? 0 : 5, lastSeen: now)
                swarm.update(peer)
                model[peer.id] = peer
            case 6..<9:
                swarm.remove(Self.id(n))
                model[Self.id(n)] = nil
            default:
                let cutoff = now - .seconds(200)
                swarm.expire(before: cutoff)
                model = model.filter { $0.value.lastSeen >= cutoff }
            }
            #expect(swarm.count == model.count)
            #expect(swarm.seeders == model.values.filter { $0.left == 0 }.count)
            let asker = Self.id(Int.random(in: 0..<120, using: &rng))
            let leechersFirst = Bool.random(using: &rng)
            let want = Int.random(in: 0..<60, using: &rng)
            let sample = swarm.sample(want, excluding: asker, leechersFirst: leechersFirst, using: &rng)
            let eligible = model.values.filter { $0.id != asker }
            #expect(Set(sample).count == sample.count)
            #expect(Set(sample).isSubset(of: Set(eligible.map(\.address))))
            #expect(sample.count == min(want, eligible.count))
            if leechersFirst {
                // Every leecher that could be sent is sent before any seed.
                let leechers = Set(eligible.filter { $0.left > 0 }.map(\.address))
                let sentLeechers = sample.filter { leechers.contains($0) }.count
                #expect(sentLeechers == min(want, leechers.count))
                #expect(Array(sample.prefix(sentLeechers)).allSatisfy { leechers.contains($0) })
            }
        }
        #expect(Set(swarm.peers.map(\.id)) == Set(model.keys))
    }

    /// Over many samples of 5 from 50 peers, every peer turns up: the walk does not favour a
    /// fixed window of the array.
    @Test func samplesReachEveryPeer() {
        var rng = SeededRandom(seed: 9)
        var swarm = TrackerSwarm()
        for n in 0..<50 {
            swarm.update(.init(id: Self.id(n), address: PeerAddress(host: "127.0.0.1", port: UInt16(2000 + n)), left: 1, lastSeen: .now))
        }
        var seen = Set<PeerAddress>()
        for _ in 0..<200 { seen.formUnion(swarm.sample(5, excluding: Self.id(999), leechersFirst: false, using: &rng)) }
        #expect(seen.count == 50)
    }
}
