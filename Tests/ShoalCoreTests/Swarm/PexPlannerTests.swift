import ShoalCore
import Testing

/// Peer exchange as a torrent sends it, over simulated hours of peers coming and going.
@Suite("Peer exchange planner")
struct PexPlannerTests {
    private let origin = ContinuousClock.now
    private let interval = Duration.seconds(60)

    private func address(_ n: Int) -> PeerAddress { PeerAddress(host: "127.0.0.\(n / 250 + 1)", port: UInt16(6000 + n % 250)) }

    /// The torrent's side: its peers with what each was told and when, fed to the planner
    /// every second as the tick does.
    private struct Swarm {
        struct State {
            var address: PeerAddress?
            var pexID: UInt8?
            var lastSent: ContinuousClock.Instant?
            var told: Set<PeerAddress> = []
            var seed = false
            var incoming = false
            var received: [PexMessage] = []
            /// Only the count and last message are kept in long runs.
            var keepAll = true
        }
        var peers: [Int: State] = [:]

        /// Returns the peers sent a message.
        @discardableResult
        mutating func tick(now: ContinuousClock.Instant, interval: Duration) -> [Int] {
            var sentTo: [Int] = []
            let view = peers.map { key, state in
                PexPlanner.Peer(key: key, address: state.address, pexID: state.pexID, lastSent: state.lastSent, told: state.told,
                                isSeed: state.seed, incoming: state.incoming)
            }
            for send in PexPlanner.sends(view, now: now, interval: interval) {
                guard case .extended(let id, let payload) = send.message, id == peers[send.key]?.pexID,
                      let message = try? PexMessage(parsing: payload) else {
                    Issue.record("not a ut_pex message in the peer's id: \(send.message)")
                    continue
                }
                if peers[send.key]?.keepAll == false { peers[send.key]?.received.removeAll(keepingCapacity: true) }
                peers[send.key]?.received.append(message)
                peers[send.key]?.told = send.told
                peers[send.key]?.lastSent = now
                sentTo.append(send.key)
            }
            return sentTo
        }
    }

    @Test func eachPeerHearsOfTheOthersOnceAMinuteAndOfThoseGone() {
        var swarm = Swarm()
        swarm.peers[1] = .init(address: address(1), pexID: 3)
        swarm.peers[2] = .init(address: address(2), pexID: 4, seed: true)
        swarm.peers[3] = .init(address: nil, pexID: 5, incoming: true)  // no listening port named
        swarm.peers[4] = .init(address: address(4), pexID: nil)  // no ut_pex
        var now = origin
        swarm.tick(now: now, interval: interval)
        #expect(swarm.peers[1]?.received.map(\.added) == [[address(2), address(4)]], "everyone else, not itself")
        #expect(swarm.peers[1]?.received.first?.addedFlags == [PexMessage.seedFlag | PexMessage.reachableFlag, PexMessage.reachableFlag])
        #expect(swarm.peers[3]?.received.map(\.added) == [[address(1), address(2), address(4)]])
        #expect(swarm.peers[4]?.received.isEmpty == true)
        // Peer 5 arrives; peer 2 leaves. Nothing goes for a minute, then one message each.
        swarm.peers[5] = .init(address: address(5), pexID: 6)
        swarm.peers[2] = nil
        var sentInMinute = 0
        for _ in 0..<59 {
            now += .seconds(1)
            let before = swarm.peers.values.map(\.received.count).reduce(0, +)
            swarm.tick(now: now, interval: interval)
            sentInMinute += swarm.peers.values.map(\.received.count).reduce(0, +) - before
        }
        #expect(sentInMinute == 1, "only the newcomer, at once")
        #expect(swarm.peers[5]?.received.map(\.added) == [[address(1), address(4)]])
        now += .seconds(1)
        swarm.tick(now: now, interval: interval)
        #expect(swarm.peers[1]?.received.last?.added == [address(5)])
        #expect(swarm.peers[1]?.received.last?.dropped == [address(2)])
        #expect(swarm.peers[1]?.told == [address(4), address(5)])
    }

    /// Two simulated hours of up to 120 peers coming and going: no peer is sent two messages
    /// within a minute, none hears of itself, a message holds at most 50 of each, and what
    /// each was told is always what is connected once it has had its turn.
    @Test func twoHoursOfChurnKeepTheRules() {
        var swarm = Swarm()
        var rng = SplitMix64(seed: 11)
        var now = origin
        var next = 0
        var lastSends: [Int: ContinuousClock.Instant] = [:]
        for second in 0..<(2 * 3600) {
            // Arrivals and departures.
            if second % 3 == 0, swarm.peers.count < 120 {
                swarm.peers[next] = .init(address: address(next), pexID: UInt8.random(in: 1...9, using: &rng),
                                          seed: Bool.random(using: &rng), keepAll: false)
                next += 1
            }
            if second % 5 == 0, let gone = swarm.peers.keys.randomElement(using: &rng) { swarm.peers[gone] = nil }
            for key in swarm.tick(now: now, interval: interval) {
                if let last = lastSends[key] { #expect(now - last >= interval, "peer \(key) twice within a minute") }
                lastSends[key] = now
                guard let message = swarm.peers[key]?.received.last else { continue }
                #expect(message.added.count <= PexMessage.maxPeers && message.dropped.count <= PexMessage.maxPeers)
                #expect(!message.added.contains(address(key)))
            }
            now += .seconds(1)
        }
        // Quiet for four minutes more (50 a message, 120 peers): everyone's view is the swarm
        // as it is.
        for _ in 0..<(4 * 60) {
            swarm.tick(now: now, interval: interval)
            now += .seconds(1)
        }
        let connected = Set(swarm.peers.values.compactMap(\.address))
        #expect(connected.count > PexMessage.maxPeers)
        for (key, state) in swarm.peers {
            #expect(state.told == connected.subtracting([address(key)]), "peer \(key)")
        }
        #expect(next > 1_400, "peers came and went")
    }
}
