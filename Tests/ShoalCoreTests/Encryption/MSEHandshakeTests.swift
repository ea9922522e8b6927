import Testing
@testable import ShoalCore

@Suite("MSE handshake")
struct MSEHandshakeTests {
    static let torrent = InfoHash(bytes: (0..<20).map { UInt8($0 * 7) })!
    static let lookup: MSEHandshake.TorrentLookup = { key in
        key == MSEKeyExchange.obfuscatedKey(for: torrent) ? torrent : nil
    }

    struct Outcome {
        var initiator: MSEStream?
        var responder: MSEStream?
        var failure: MSEFailure?
    }

    /// Runs both sides against each other, delivering each side's bytes in random pieces;
    /// `tamper` may change what the initiator sends (by absolute offset in its stream).
    static func run(provide: CryptoMethods, preference: [CryptoMethod], seed: UInt64, responderLookup: @escaping MSEHandshake.TorrentLookup = lookup,
                    tamper: (inout [UInt8]) -> Void = { _ in }) -> Outcome {
        var random = SplitMix64(seed: seed)
        var (initiator, toResponder) = MSEHandshake.initiator(infoHash: torrent, provide: provide, using: &random)
        var responder = MSEHandshake.responder(preference: preference, lookup: responderLookup, using: &random)
        var toInitiator: [UInt8] = []
        var sentByInitiator: [UInt8] = []
        var outcome = Outcome()
        for _ in 0..<200 where outcome.failure == nil && (outcome.initiator == nil || outcome.responder == nil) {
            do throws(MSEFailure) {
                if !toResponder.isEmpty, outcome.responder == nil {
                    let count = min(Int.random(in: 1...300, using: &random), toResponder.count)
                    var chunk = Array(toResponder.prefix(count))
                    toResponder.removeFirst(count)
                    var whole = sentByInitiator + chunk
                    tamper(&whole)
                    chunk = Array(whole.suffix(count))
                    sentByInitiator += chunk
                    let step = try responder.receive(chunk)
                    toInitiator += step.send
                    if let stream = step.established { outcome.responder = stream }
                }
                if !toInitiator.isEmpty, outcome.initiator == nil {
                    let count = min(Int.random(in: 1...300, using: &random), toInitiator.count)
                    let step = try initiator.receive(toInitiator.prefix(count))
                    toInitiator.removeFirst(count)
                    toResponder += step.send
                    if let stream = step.established { outcome.initiator = stream }
                }
            } catch {
                outcome.failure = error
            }
        }
        return outcome
    }

    @Test(arguments: 1...40)
    func bothSidesAgreeWhateverTheChunking(seed: UInt64) throws {
        let outcome = Self.run(provide: [.rc4, .plaintext], preference: [.rc4, .plaintext], seed: seed)
        var initiator = try #require(outcome.initiator, "\(String(describing: outcome.failure))")
        var responder = try #require(outcome.responder)
        #expect(initiator.method == .rc4 && responder.method == .rc4)
        #expect(responder.infoHash == Self.torrent)
        // The ciphers line up: what one side encrypts, the other decrypts.
        let message = Array("\u{13}BitTorrent protocol".utf8)
        var wire = initiator.outgoing!.applied(to: message)
        #expect(responder.incoming!.applied(to: wire) == message)
        wire = responder.outgoing!.applied(to: message)
        #expect(initiator.incoming!.applied(to: wire) == message)
        #expect(wire != message)
    }

    /// Transmission's and libtorrent's choice rules: the responder takes the first of its
    /// preferences that the initiator offers; an offer with nothing in common fails, named.
    struct Choice: Sendable {
        let provide: CryptoMethods
        let preference: [CryptoMethod]
        let expected: CryptoMethod?
    }

    static let choices = [
        Choice(provide: [.rc4, .plaintext], preference: [.plaintext, .rc4], expected: .plaintext),
        Choice(provide: [.rc4], preference: [.plaintext, .rc4], expected: .rc4),
        Choice(provide: [.plaintext], preference: [.rc4, .plaintext], expected: .plaintext),
        Choice(provide: [.plaintext], preference: [.rc4], expected: nil),
        Choice(provide: [.rc4], preference: [.plaintext], expected: nil),
    ]

    @Test(arguments: choices)
    func methodSelection(choice: Choice) {
        let (provide, preference, expected) = (choice.provide, choice.preference, choice.expected)
        let outcome = Self.run(provide: provide, preference: preference, seed: 9)
        if let expected {
            #expect(outcome.initiator?.method == expected)
            #expect(outcome.responder?.method == expected)
            if expected == .plaintext { #expect(outcome.initiator?.outgoing == nil && outcome.responder?.incoming == nil) }
        } else {
            #expect(outcome.failure?.description.hasPrefix("the peer offers") == true, "\(String(describing: outcome.failure))")
        }
    }

    @Test func anUnknownTorrentFails() {
        let outcome = Self.run(provide: [.rc4], preference: [.rc4], seed: 3, responderLookup: { _ in nil })
        #expect(outcome.failure == MSEFailure("the peer asked for a torrent we do not have"))
    }

    /// The initiator's third message is req1 (20), req2^req3 (20), then the encrypted VC: a
    /// flipped VC byte is caught.
    @Test func aWrongVerificationConstantFails() {
        var random = SplitMix64(seed: 4)
        let (_, opening) = MSEHandshake.initiator(infoHash: Self.torrent, provide: [.rc4], using: &random)
        let vcOffset = opening.count + 40
        let outcome = Self.run(provide: [.rc4], preference: [.rc4], seed: 4, tamper: { (bytes: inout [UInt8]) in
            if bytes.count > vcOffset { bytes[vcOffset] ^= 0x01 }
        })
        #expect(outcome.failure == MSEFailure("wrong verification constant"))
    }

    /// A peer that sends only noise is dropped once padding could no longer explain it:
    /// 96 bytes of key + 512 of padding + 20 of req1 (or 512 + 8 on the initiator's side).
    @Test func endlessPaddingIsBounded() throws {
        var random = SplitMix64(seed: 6)
        var responder = MSEHandshake.responder(preference: [.rc4], lookup: Self.lookup, using: &random)
        var fed = 0
        var failure: MSEFailure?
        while failure == nil, fed < 10_000 {
            do throws(MSEFailure) { _ = try responder.receive((0..<16).map { _ in UInt8.random(in: 1...255, using: &random) }) } catch { failure = error }
            fed += 16
        }
        #expect(failure == MSEFailure("no HASH('req1', S) within 512 bytes of padding"))
        #expect(fed <= 96 + 512 + 20 + 16)

        var (initiator, _) = MSEHandshake.initiator(infoHash: Self.torrent, provide: [.rc4], using: &random)
        let peer = MSEKeyExchange(privateKey: Array(1...20))
        _ = try initiator.receive(peer.publicKey)
        fed = 0
        failure = nil
        while failure == nil, fed < 10_000 {
            do throws(MSEFailure) { _ = try initiator.receive((0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }) } catch { failure = error }
            fed += 16
        }
        #expect(failure == MSEFailure("no verification constant within 512 bytes of padding"))
        #expect(fed <= 512 + 8 + 16)
    }

    @Test func aDegeneratePublicKeyFails() {
        var random = SplitMix64(seed: 7)
        var responder = MSEHandshake.responder(preference: [.rc4], lookup: Self.lookup, using: &random)
        #expect(throws: MSEFailure("the peer's public key is degenerate")) { try responder.receive([UInt8](repeating: 0, count: 96)) }
    }

    /// Payload bytes that arrive with the last handshake message are handed on, decrypted; a
    /// plaintext stream hands them on as they are.
    @Test(arguments: [CryptoMethod.rc4, .plaintext])
    func payloadAfterTheHandshakeIsKept(method: CryptoMethod) throws {
        var random = SplitMix64(seed: 8)
        var (initiator, opening) = MSEHandshake.initiator(infoHash: Self.torrent, provide: [.rc4, .plaintext], using: &random)
        var responder = MSEHandshake.responder(preference: [method], lookup: Self.lookup, using: &random)
        let reply = try responder.receive(opening)
        let request = try initiator.receive(reply.send)
        let done = try responder.receive(request.send)
        let responderStream = try #require(done.established)
        let payload = Array("first message".utf8)
        let wire = responderStream.outgoing.map { cipher in
            var cipher = cipher
            return cipher.applied(to: payload)
        } ?? payload
        let last = try initiator.receive(done.send + wire)
        let stream = try #require(last.established)
        #expect(stream.method == method)
        #expect(stream.payload == payload)
        #expect(throws: MSEFailure.self) { try initiator.receive([1]) }
    }

    @Test func anOversizedInitialPayloadFails() throws {
        var random = SplitMix64(seed: 10)
        var (initiator, opening) = MSEHandshake.initiator(infoHash: Self.torrent, provide: [.rc4], using: &random)
        var responder = MSEHandshake.responder(preference: [.rc4], lookup: Self.lookup, using: &random)
        let reply = try responder.receive(opening)
        // Rebuild the initiator's request with a 5,000-byte initial payload length.
        _ = try initiator.receive(reply.send)
        var cipher = MSEKeyExchange.cipher("keyA", secret: initiator.secret, infoHash: Self.torrent)
        let plain = MSEHandshake.verificationConstant + [0, 0, 0, 2] + [0, 0] + [0x13, 0x88]
        let request = MSEKeyExchange.hash(Array("req1".utf8), initiator.secret)
            + zip(MSEKeyExchange.obfuscatedKey(for: Self.torrent), MSEKeyExchange.hash(Array("req3".utf8), initiator.secret)).map { $0 ^ $1 }
            + cipher.applied(to: plain)
        #expect(throws: MSEFailure("initial payload of 5000 bytes (at most 4096)")) { try responder.receive(request) }
    }
}
