import Foundation
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Testing

/// BEP 32 on real sockets: an IPv6-only DHT on ::1, dual-stack nodes keeping one table per
/// family, and a magnet found through the DHT by sessions that listen on ::1 only.
@Suite("A DHT over IPv6 on ::1", .serialized)
struct DHTIPv6NetworkTests {
    /// 5 s per query, as the 50-node test: this tests routing, not timeouts under load.
    static let timeout = Duration.seconds(5)

    @Test func anIPv6OnlyDHTFindsAnAnnouncedPeer() async throws {
        let first = try await DHTNode.start(bind: "::1", port: 0, bootstrap: [], queryTimeout: Self.timeout)
        #expect(first.families == [.ipv6])
        var nodes = [first]
        let bootstrap = [PeerAddress(host: "::1", port: UInt16(first.port))]
        for _ in 1..<12 { nodes.append(try await DHTNode.start(bind: "::1", port: 0, bootstrap: bootstrap, queryTimeout: Self.timeout)) }
        let all = nodes
        await withTaskGroup(of: Void.self) { group in
            for node in all { group.addTask { await node.run() } }
            for node in all.dropFirst() { await node.bootstrap() }
            for node in all { await node.bootstrap() }
            let sizes = await all.asyncMap { await $0.nodeCount(.ipv6) }
            #expect(sizes.allSatisfy { $0 >= 3 }, "every node knows others over IPv6: \(sizes)")
            #expect(await all.asyncMap { await $0.nodeCount(.ipv4) }.allSatisfy { $0 == 0 })

            let hash = InfoHash(bytes: [UInt8](repeating: 0x66, count: 20))!
            let (found, acceptedBy) = await all[5].announceCounted(hash, port: 51_413)
            #expect(found.isEmpty && acceptedBy >= 3, "taken by \(acceptedBy) nodes")
            let peer = PeerAddress(host: "::1", port: 51_413)
            var missed: [Int] = []
            for (index, node) in all.enumerated() where index != 5 {
                // One more lookup for a node whose answers came late under load; a routing fault misses twice.
                if await !node.getPeers(hash).contains(peer), await !node.getPeers(hash).contains(peer) { missed.append(index) }
            }
            #expect(missed.isEmpty, "not found over IPv6 by nodes \(missed)")
            for node in all { await node.shutdown() }
        }
    }

    /// A dual-stack node keeps IPv4 and IPv6 nodes apart, answers `want` with both, hands each
    /// asker the stored peers it can reach, and saves and restores its IPv6 nodes.
    @Test func aDualStackNodeKeepsTheFamiliesApart() async throws {
        let hub = try await DHTNode.start(binds: ["127.0.0.1", "::1"], port: 0, bootstrap: [], queryTimeout: Self.timeout)
        #expect(hub.families == [.ipv4, .ipv6] && hub.problems.isEmpty)
        let hubAddresses = [PeerAddress(host: "127.0.0.1", port: UInt16(hub.port)), PeerAddress(host: "::1", port: UInt16(hub.port))]
        let both = try await DHTNode.start(binds: ["127.0.0.1", "::1"], port: 0, bootstrap: hubAddresses, queryTimeout: Self.timeout)
        let onlySix = try await DHTNode.start(bind: "::1", port: 0, bootstrap: [hubAddresses[1]], queryTimeout: Self.timeout)
        let onlyFour = try await DHTNode.start(bind: "127.0.0.1", port: 0, bootstrap: [hubAddresses[0]], queryTimeout: Self.timeout)
        let all = [hub, both, onlySix, onlyFour]
        await withTaskGroup(of: Void.self) { group in
            for node in all { group.addTask { await node.run() } }
            for node in all.dropFirst() { await node.bootstrap() }
            #expect(await both.nodeCount(.ipv4) >= 1)
            #expect(await both.nodeCount(.ipv6) >= 1)
            let hubCounts = [await hub.nodeCount(.ipv4), await hub.nodeCount(.ipv6)]
            #expect(hubCounts == [2, 2], "each family's table holds only its nodes")

            // Asked over IPv4 for both families, the hub names its IPv6 nodes too.
            let asker = NodeID(InfoHash(bytes: [UInt8](repeating: 0x21, count: 20))!)
            let answer = await onlyFour.query(.findNode(id: asker, target: hub.ownID, want: [.ipv4, .ipv6]), to: hubAddresses[0])
            #expect(Set(answer?.nodes.map(\.family) ?? []) == [.ipv4, .ipv6], "\(String(describing: answer))")
            let plain = await onlyFour.query(.findNode(id: asker, target: hub.ownID), to: hubAddresses[0])
            #expect(plain?.nodes.allSatisfy { $0.family == .ipv4 } == true)

            // Announced in both families; each single-family node finds the address it can reach.
            let hash = InfoHash(bytes: [UInt8](repeating: 0x32, count: 20))!
            _ = await both.announce(hash, port: 6_999)
            #expect(await onlySix.getPeers(hash) == [PeerAddress(host: "::1", port: 6_999)])
            #expect(await onlyFour.getPeers(hash) == [PeerAddress(host: "127.0.0.1", port: 6_999)])
            #expect(Set(await both.getPeers(hash)) == [PeerAddress(host: "::1", port: 6_999), PeerAddress(host: "127.0.0.1", port: 6_999)])

            // The IPv6 node asks nothing over IPv4 (it has no such socket): nil at once.
            #expect(await onlySix.query(.ping(id: asker), to: hubAddresses[0]) == nil)

            let saved = await both.savedState
            #expect(saved.nodes.contains { $0.host == "::1" } && saved.nodes.contains { $0.host == "127.0.0.1" })
            for node in all { await node.shutdown() }
            let again = try? await DHTNode.start(binds: ["127.0.0.1", "::1"], port: 0, bootstrap: [], saved: saved)
            #expect(await again?.nodeCount(.ipv6) == saved.nodes.filter { $0.host.contains(":") }.count)
            #expect(await again?.nodeCount(.ipv4) == saved.nodes.filter { !$0.host.contains(":") }.count)
            await again?.shutdown()
        }
    }

    /// Two sessions that listen on ::1 only find each other through an IPv6 DHT node and move
    /// a magnet's torrent. Before BEP 32 such a session ran no DHT ("it runs over IPv4").
    @Test func aMagnetIsFoundThroughTheIPv6DHT() async throws {
        let harness = try SwarmHarness()
        let router = try await DHTNode.start(bind: "::1", port: 0, bootstrap: [], queryTimeout: .seconds(2))
        let routerTask = Task { await router.run() }
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "dht6.bin", files: nil, singleSize: 600_000, pieceLength: 32 << 10, in: seedDir,
                                              seed: 32, trackers: [])
        func configure(_ config: inout EngineConfig) {
            config.bindAddress = "::1"
            config.dhtEnabled = true
            config.dhtBootstrap = [PeerAddress(host: "::1", port: UInt16(router.port))]
            config.dhtQueryTimeout = .seconds(2)
            config.dhtAnnounceInterval = .seconds(2)
        }
        let seeder = try await harness.startSession("seed", configure: configure)
        #expect(seeder.dht?.families == [.ipv6])
        #expect(await seeder.takeErrors().isEmpty, "no DHT problem reported")
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        let leecher = try await harness.startSession("leech", configure: configure)
        try await leecher.add(magnet: MagnetLink(infoHash: torrent.infoHash))
        let done = await harness.waitUntil(timeout: .seconds(90)) { await leecher.snapshot().torrents.first?.isComplete == true }
        let state = await leecher.snapshot().torrents.first.map { "\($0.activity) peers \($0.peers.map(\.address))" } ?? ""
        #expect(done, "\(state)")
        #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("dht6.bin"), harness.root.appendingPathComponent("leech/dht6.bin")))
        await harness.stopAll()
        await router.shutdown()
        await routerTask.value
    }
}
