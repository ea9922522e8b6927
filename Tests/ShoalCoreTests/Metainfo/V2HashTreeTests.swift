import Foundation
import ShoalCore
import Testing

/// Answers to BEP 52 hash requests: on the wire, and proved against the root.
@Suite("v2 hash requests")
struct V2HashTreeTests {
    func layer(_ count: Int, seed: UInt64) -> [[UInt8]] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) } }
    }

    @Test func theMessagesRoundTripAndMalformedOnesAreRefused() throws {
        let request = HashRequest(piecesRoot: [UInt8](repeating: 7, count: 32), baseLayer: 1, index: 4, length: 4, proofLayers: 3)
        for message in [PeerMessage.hashRequest(request), .hashReject(request), .hashes(request, hashes: [UInt8](repeating: 9, count: 96))] {
            var decoder = PeerWireDecoder(pieceCount: 100)
            decoder.append(message.encoded)
            #expect(try decoder.next() == message)
        }
        // A request one byte short, and hashes that are not whole.
        for frame in [[0, 0, 0, 48, 21] + [UInt8](repeating: 0, count: 47), [0, 0, 0, 65, 22] + [UInt8](repeating: 0, count: 64)] as [[UInt8]] {
            var decoder = PeerWireDecoder(pieceCount: 100)
            decoder.append(frame)
            #expect(throws: PeerWireDecoder.DecodeError.self) { try decoder.next() }
        }
    }

    /// Every valid request for a file of 1–40 pieces: its hashes are the layer's (padding past
    /// the end), and with its uncles they hash up to the file's root.
    @Test func everyAnswerProvesItselfAgainstTheRoot() {
        for pieces in 2...40 {
            let blocksPerPiece = 4
            let layer = layer(pieces, seed: UInt64(pieces))
            let tree = V2HashTree(pieceLayer: layer, blocksPerPiece: blocksPerPiece)
            #expect(tree.root == MerkleTree.root(pieceLayer: layer, blocksPerPiece: blocksPerPiece))
            let width = MerkleTree.nextPowerOfTwo(pieces)
            let height = width.trailingZeroBitCount
            var length = 1
            while length <= width {
                for index in stride(from: 0, to: width, by: length) {
                    let proofLayers = height - length.trailingZeroBitCount
                    guard let answer = tree.answer(baseLayer: 2, index: index, length: length, proofLayers: proofLayers) else {
                        Issue.record("refused \(index)+\(length) of \(pieces)")
                        continue
                    }
                    #expect(answer.count == (length + proofLayers) * 32)
                    let hashes = stride(from: 0, to: answer.count, by: 32).map { Array(answer[$0..<$0 + 32]) }
                    for (n, hash) in hashes.prefix(length).enumerated() {
                        #expect(hash == (index + n < pieces ? layer[index + n] : MerkleTree.padHash(levels: 2)))
                    }
                    let node = MerkleTree.provedRoot(Array(hashes.prefix(length)), index: index, uncles: hashes.dropFirst(length),
                                                     pad: MerkleTree.padHash(levels: 2))
                    #expect(node == tree.root, "\(index)+\(length) of \(pieces)")
                }
                length *= 2
            }
        }
    }

    /// Block hashes inside one piece, with uncles from inside the piece and above it, prove
    /// out against the root for every aligned run in every piece.
    @Test func blockHashAnswersProveThemselvesToo() {
        let perPiece = 8
        for pieces in [2, 5] {
            let leaves = (0..<pieces).map { layer(perPiece, seed: UInt64(100 + $0)) }
            let tree = V2HashTree(pieceLayer: leaves.map { MerkleTree.root($0, width: perPiece, pad: MerkleTree.zero) }, blocksPerPiece: perPiece)
            for piece in 0..<pieces {
                var length = 1
                while length <= perPiece {
                    for index in stride(from: piece * perPiece, to: (piece + 1) * perPiece, by: length) {
                        let proof = tree.rootLevel - length.trailingZeroBitCount
                        guard let answer = tree.answerBlocks(index: index, length: length, proofLayers: proof, piece: piece, leaves: leaves[piece]) else {
                            Issue.record("refused \(index)+\(length)")
                            continue
                        }
                        let hashes = stride(from: 0, to: answer.count, by: 32).map { Array(answer[$0..<$0 + 32]) }
                        let node = MerkleTree.provedRoot(Array(hashes.prefix(length)), index: index, uncles: hashes.dropFirst(length),
                                                         pad: MerkleTree.zero)
                        #expect(node == tree.root, "piece \(piece), \(index)+\(length) of \(pieces) pieces")
                    }
                    length *= 2
                }
            }
        }
    }

    /// The v2 bit of the handshake (BEP 52), beside the others; and a hybrid's second name.
    @Test func theV2BitAndAHybridsAlias() throws {
        let v2 = try Handshake(parsing: Handshake(infoHash: InfoHash(bytes: [UInt8](repeating: 1, count: 20))!, peerID: .generate(),
                                                  reserved: Handshake.reservedBits(dht: true, v2: true)).encoded)
        #expect(v2.supportsV2 && v2.supportsDHT && v2.supportsFast && v2.supportsExtensions)
        #expect(!Handshake(infoHash: v2.infoHash, peerID: .generate(), reserved: Handshake.reservedBits(dht: true)).supportsV2)
        let directory = V2FixtureTests.directory
        let hybrid = try Metainfo(bytes: Array(try Data(contentsOf: directory.appendingPathComponent("hybrid-multi.torrent"))))
        #expect(hybrid.hybridV2Alias?.bytes == Array(hybrid.infoHashV2!.prefix(20)) && hybrid.hybridV2Alias != hybrid.infoHash)
        let only = try Metainfo(bytes: Array(try Data(contentsOf: directory.appendingPathComponent("v2-multi.torrent"))))
        #expect(only.hybridV2Alias == nil, "a v2-only torrent has one name")
    }

    @Test func requestsItCannotAnswerAreRefused() {
        let tree = V2HashTree(pieceLayer: layer(5, seed: 1), blocksPerPiece: 2)
        #expect(tree.answer(baseLayer: 0, index: 0, length: 2, proofLayers: 0) == nil, "block hashes: not kept")
        #expect(tree.answer(baseLayer: 1, index: 1, length: 2, proofLayers: 0) == nil, "not aligned")
        #expect(tree.answer(baseLayer: 1, index: 0, length: 3, proofLayers: 0) == nil, "not a power of two")
        #expect(tree.answer(baseLayer: 1, index: 8, length: 1, proofLayers: 0) == nil, "past the tree")
        #expect(tree.answer(baseLayer: 1, index: 0, length: 8, proofLayers: 9)?.count == 8 * 32, "no uncles above the root")
    }
}

/// A v2 magnet's piece layers, asked for and checked against the roots as they come.
@Suite("v2 piece layers from peers")
struct PieceLayerAssemblerTests {
    /// The v2-only fixture without layers: its larger files' layers come from a server that has
    /// them (`V2PieceHashes` of the fixture with layers), in runs with proofs.
    @Test func layersAnsweredWithProofsCompleteTheTorrentAndLiesAreCaught() throws {
        let directory = V2FixtureTests.directory
        let full = try Metainfo(bytes: Array(try Data(contentsOf: directory.appendingPathComponent("v2-multi.torrent"))))
        let bare = try Metainfo(rawInfo: full.rawInfo, trackerTiers: [])
        #expect(bare.missingPieceLayer != nil)
        let server = try #require(full.info.v2Pieces)
        var assembler = PieceLayerAssembler(info: bare.info)
        var asked = assembler.requests(for: 1)
        #expect(!asked.isEmpty && assembler.requests(for: 2).isEmpty, "each request to one peer at a time")
        // A lie: one hash changed, and the answer no longer proves out.
        guard case .hashes(let request, var hashes) = server.answer(asked[0]) else { Issue.record("not answered"); return }
        hashes[0] ^= 1
        guard case .bad = assembler.received(request, hashes: hashes, from: 1) else { Issue.record("a lie taken"); return }
        assembler.release(1)
        asked = assembler.requests(for: 2)
        var outcome = PieceLayerAssembler.Outcome.needMore
        for request in asked {
            guard case .hashes(let answered, let hashes) = server.answer(request) else { Issue.record("refused"); return }
            outcome = assembler.received(answered, hashes: hashes, from: 2)
        }
        #expect(outcome == .complete && assembler.isComplete)
        let made = try Metainfo(rawInfo: full.rawInfo, pieceLayers: assembler.encodedLayers, trackerTiers: [])
        #expect(made.missingPieceLayer == nil && made.infoHash == full.infoHash)
        #expect(made.rawPieceLayers.map { try? BencodeDecoder.decode($0).value } == full.rawPieceLayers.map { try? BencodeDecoder.decode($0).value })
        guard case .bad = assembler.received(asked[0], hashes: [], from: 2) else { Issue.record("an unasked answer taken"); return }
        // A .torrent file with a bad layer (the fixture's kind) takes the fetched layers in place
        // of its own, keeping its trackers, web seeds and comment.
        let badLayer = try Metainfo(bytes: Array(try Data(contentsOf: directory.appendingPathComponent("v2-bad-piece-layer-hash.torrent"))))
        #expect(badLayer.missingPieceLayer != nil)
        let mended = try badLayer.withPieceLayers(assembler.encodedLayers)
        #expect(mended.missingPieceLayer == nil && mended.infoHash == badLayer.infoHash && mended.info.v2Pieces != nil)
        #expect(mended.trackerTiers == badLayer.trackerTiers && mended.urlList == badLayer.urlList && mended.comment == badLayer.comment)
        #expect(mended.rawPieceLayers.map { try? BencodeDecoder.decode($0).value } == full.rawPieceLayers.map { try? BencodeDecoder.decode($0).value })
    }
}
