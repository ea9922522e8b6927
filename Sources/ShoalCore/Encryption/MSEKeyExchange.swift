import CBigNum
import Crypto

/// MSE's Diffie–Hellman: the fixed 768-bit prime, generator 2, a 160-bit private key per side
/// (the specification's recommendation), and the key material both sides derive from the
/// shared secret and the torrent's info-hash. The arithmetic is libcrypto's.
public struct MSEKeyExchange: Sendable {
    /// Public keys and the shared secret travel as 96 big-endian bytes.
    public static let keyLength = 96

    static let prime: [UInt8] = hexBytes(
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563")
    static let primeMinusOne: [UInt8] = {
        var bytes = prime
        bytes[bytes.count - 1] -= 1 // the prime ends in 0x63: no borrow
        return bytes
    }()

    private let privateKey: [UInt8]
    /// Ours, to send.
    public let publicKey: [UInt8]

    public init(using random: inout some RandomNumberGenerator) {
        self.init(privateKey: (0..<20).map { _ in random.next() })
    }

    /// A given private key, as big-endian bytes (tests compare against reference values).
    public init(privateKey: [UInt8]) {
        self.privateKey = privateKey
        var two = [UInt8](repeating: 0, count: Self.keyLength)
        two[Self.keyLength - 1] = 2
        publicKey = Self.power(two, privateKey)
    }

    /// The shared secret S, from the other side's public key; nil for a key no honest peer
    /// sends (0, 1, p−1 or not below p), which would make S guessable.
    public func sharedSecret(with theirs: some Collection<UInt8>) -> [UInt8]? {
        let y = Array(theirs)
        // Equal lengths, big-endian: comparing bytes in order compares the numbers.
        guard y.count == Self.keyLength, y.lexicographicallyPrecedes(Self.primeMinusOne),
              y.dropLast().contains(where: { $0 != 0 }) || y[Self.keyLength - 1] > 1
        else { return nil }
        return Self.power(y, privateKey)
    }

    /// base^exponent mod p, as 96 big-endian bytes.
    static func power(_ base: [UInt8], _ exponent: [UInt8]) -> [UInt8] {
        let context = BN_CTX_new()
        let b = BN_bin2bn(base, Int32(base.count), nil)
        let e = BN_secure_new()
        let p = BN_bin2bn(prime, Int32(prime.count), nil)
        let result = BN_new()
        defer {
            BN_free(b)
            BN_clear_free(e)
            BN_free(p)
            BN_clear_free(result)
            BN_CTX_free(context)
        }
        BN_bin2bn(exponent, Int32(exponent.count), e)
        BN_set_flags(e, Int32(BN_FLG_CONSTTIME))
        var out = [UInt8](repeating: 0, count: keyLength)
        guard let context, b != nil, e != nil, p != nil, result != nil, BN_mod_exp(result, b, e, p, context) == 1,
              BN_bn2binpad(result, &out, Int32(keyLength)) == Int32(keyLength)
        else {
            // Only an allocation failure gets here; a zero key then fails the handshake.
            return out
        }
        return out
    }

    /// SHA-1 over the concatenation of `parts`: MSE's HASH().
    public static func hash(_ parts: [UInt8]...) -> [UInt8] {
        var hasher = Insecure.SHA1()
        for part in parts { hasher.update(data: part) }
        return Array(hasher.finalize())
    }

    /// What the initiator sends in place of the info-hash, before xor with HASH('req3', S):
    /// the key the responder's index of torrents is looked up by.
    public static func obfuscatedKey(for infoHash: InfoHash) -> [UInt8] {
        hash(Array("req2".utf8), infoHash.bytes)
    }

    /// The RC4 keys for each direction: 'keyA' encrypts what the initiator sends, 'keyB' what
    /// the responder sends. Both discard the first 1,024 bytes of keystream.
    static func cipher(_ label: String, secret: [UInt8], infoHash: InfoHash) -> RC4 {
        RC4(key: hash(Array(label.utf8), secret, infoHash.bytes), discard: 1024)
    }

    static func hexBytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8).map { UInt8(ascii: "0") <= $0 && $0 <= UInt8(ascii: "9") ? $0 - 48 : ($0 | 0x20) - 87 }
        return stride(from: 0, to: digits.count, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
    }
}
