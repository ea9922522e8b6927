import Foundation
import ShoalCore
@testable import ShoalEngine
import ShoalTestSupport
import Testing

/// A session listening on 127.0.0.1 and ::1 at once (one port), reached over either family, and
/// what it tells trackers about its IPv6 address.
@Suite("IPv6 listeners", .serialized)
struct IPv6SessionTests {
    @Test func oneSessionServesBothFamiliesOnOnePort() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "both.bin", files: nil, singleSize: 1 << 20, pieceLength: 64 << 10, in: seedDir,
                                              seed: 73, trackers: [])
        let seeder = try await harness.startSession("seed") { $0.bindAddresses = ["127.0.0.1", "::1"] }
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        #expect(await seeder.takeErrors().isEmpty, "both listeners up")

        for (name, bind, host) in [("six", "::1", "::1"), ("four", "127.0.0.1", "127.0.0.1")] {
            let leecher = try await harness.startSession(name) { $0.bindAddress = bind }
            let hash = try await leecher.add(torrent)
            await leecher.addPeers(hash, [PeerAddress(host: host, port: seeder.listenPort)])
            #expect(await harness.waitUntil(timeout: .seconds(60)) { await leecher.snapshot().torrents.first?.isComplete == true }, "\(name)")
            #expect(SwarmHarness.sameContents(seedDir.appendingPathComponent("both.bin"), harness.root.appendingPathComponent("\(name)/both.bin")))
        }
        await harness.stopAll()
    }

    @Test func theSeederShowsAnIPv6PeerInBrackets() async throws {
        let harness = try SwarmHarness()
        let seedDir = harness.root.appendingPathComponent("seed")
        let torrent = try harness.makeTorrent(name: "shown.bin", files: nil, singleSize: 2 << 20, pieceLength: 64 << 10, in: seedDir,
                                              seed: 74, trackers: [])
        let seeder = try await harness.startSession("seed") { $0.bindAddress = "::1" }
        try await seeder.add(torrent)
        #expect(await harness.waitUntil { await seeder.snapshot().torrents.first?.activity == .seeding })
        let leecher = try await harness.startSession("leech") {
            $0.bindAddress = "::1"
            $0.downloadLimit = 1 << 20
        }
        let hash = try await leecher.add(torrent)
        await leecher.addPeers(hash, [PeerAddress(host: "0:0:0:0:0:0:0:1", port: seeder.listenPort)])
        #expect(await harness.waitUntil(timeout: .seconds(30)) {
            await seeder.snapshot().torrents.first?.peers.first?.address.hasPrefix("[::1]:") == true
        })
        #expect(await harness.waitUntil(timeout: .seconds(30)) {
            await leecher.snapshot().torrents.first?.peers.first?.address == "[::1]:\(seeder.listenPort)"
        }, "the dialled address in its one spelling")
        await harness.stopAll()
    }

    @Test func trackersAreToldAGlobalIPv6AddressOnly() {
        #expect(LocalAddresses.announcedIPv6(binds: ["2001:DB8:0::5"]) == "2001:db8::5")
        #expect(LocalAddresses.announcedIPv6(binds: ["0.0.0.0", "::1"]) == nil)
        #expect(LocalAddresses.announcedIPv6(binds: ["fe80::1", "127.0.0.1"]) == nil)
        var request = AnnounceRequest(infoHash: InfoHash(bytes: [UInt8](repeating: 1, count: 20))!, peerID: .generate(), port: 6881, left: 0)
        #expect(!request.url(announce: "http://127.0.0.1/a").contains("ipv6="))
        request.ipv6 = "2001:db8::5"
        #expect(request.url(announce: "http://127.0.0.1/a").hasSuffix("&ipv6=2001%3Adb8%3A%3A5"))
    }
}
