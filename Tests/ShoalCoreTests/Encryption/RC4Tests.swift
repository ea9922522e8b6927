import Testing
@testable import ShoalCore

@Suite("RC4 and MSE's key exchange")
struct RC4Tests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    @Test func classicVectors() {
        var cipher = RC4(key: Array("Key".utf8))
        #expect(Self.hex(cipher.applied(to: Array("Plaintext".utf8))) == "bbf316e8d940af0ad3")
        cipher = RC4(key: Array("Secret".utf8))
        #expect(Self.hex(cipher.applied(to: Array("Attack at dawn".utf8))) == "45a01f645fc35b383552544b9bf5")
    }

    /// RFC 6229's 40-bit key 0x0102030405 at several keystream offsets, including 1,024 (where
    /// MSE starts, after its discard).
    @Test(arguments: [(0, "b2396305f03dc027ccc3524a0a1118a8"), (16, "6982944f18fc82d589c403a47a0d0919"),
                      (240, "28cb1132c96ce286421dcaadb8b69eae"), (1024, "30abbcc7c20b01609f23ee2d5f6bb7df"),
                      (1520, "3294f744d8f9790507e70f62e5bbceea"), (4096, "ff25b58995996707e51fbdf08b34d875")])
    func rfc6229(offset: Int, expected: String) {
        let cipher = RC4(key: [1, 2, 3, 4, 5], discard: offset)
        #expect(Self.hex(cipher.peekKeystream(16)) == expected)
    }

    /// Encrypting in pieces of any size gives the same stream as in one go.
    @Test func chunkingDoesNotChangeTheStream() {
        var random = SplitMix64(seed: 5)
        let plain = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &random) }
        var whole = RC4(key: Array("chunks".utf8), discard: 1024)
        let once = whole.applied(to: plain)
        var pieces = RC4(key: Array("chunks".utf8), discard: 1024)
        var out: [UInt8] = []
        var index = 0
        while index < plain.count {
            let length = min(Int.random(in: 1...700, using: &random), plain.count - index)
            out += pieces.applied(to: plain[index..<index + length])
            index += length
        }
        #expect(out == once)
        var back = RC4(key: Array("chunks".utf8), discard: 1024)
        #expect(back.applied(to: once) == plain)
    }

    /// Reference values computed with Python's pow() for private keys 01…14 and 65…78.
    @Test func diffieHellmanMatchesReference() throws {
        let a = MSEKeyExchange(privateKey: Array(1...20))
        let b = MSEKeyExchange(privateKey: Array(101...120))
        #expect(Self.hex(a.publicKey) == "96e112dab29e8c5272accb9b17b26887ce54a144a4e3b697c7d159b7a817e556b0918db2b4c658e02a87f7e5fb14b18a553e084cbf3dad2d30f16596ccb982d406258c61b30c5c1dae2ddc60bdbd48d79896312aad63238c39e1a633821eb693")
        let secret = try #require(a.sharedSecret(with: b.publicKey))
        #expect(secret == b.sharedSecret(with: a.publicKey))
        #expect(Self.hex(secret) == "d05ed96a95215a89b44073afe5d0b1626289ac01cff7849392948b2470b346547e944d7562a897ae86976bc389999083ec09572dbdc8ed7f6a0a86a1aa42a3ca04209b72d8239890360435640643b76479ed7836f1857963fcc7cb72084c3ab4")
    }

    /// A public key of 0, 1, p−1 or p would fix the shared secret; it is refused.
    @Test func degenerateKeysAreRefused() {
        let a = MSEKeyExchange(privateKey: Array(1...20))
        let one = [UInt8](repeating: 0, count: 95) + [1]
        let prime = MSEKeyExchange.prime
        for key in [[UInt8](repeating: 0, count: 96), one, MSEKeyExchange.primeMinusOne, prime, [UInt8](repeating: 0xFF, count: 96), [2]] {
            #expect(a.sharedSecret(with: key) == nil)
        }
        #expect(a.sharedSecret(with: [UInt8](repeating: 0, count: 95) + [2]) != nil)
    }
}
