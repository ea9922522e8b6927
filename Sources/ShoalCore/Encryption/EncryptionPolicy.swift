/// Which connections use Message Stream Encryption (`--encryption`), with Transmission's
/// meanings: what we dial with, what we offer and choose, what we accept.
public enum EncryptionPolicy: String, Sendable, CaseIterable {
    /// Dial encrypted, fall back to plaintext once; accept both; choose RC4 when offered (the default).
    case prefer
    /// Encrypted only, both ways: plaintext is refused and never dialled.
    case require
    /// Dial plaintext; accept both; choose plaintext when offered.
    case allow
    /// Plaintext only: an encrypted handshake is refused.
    case disable

    /// How outgoing connections are tried, in order (one retry at most).
    public var dialAttempts: [Attempt] {
        switch self {
        case .prefer: [.encrypted, .plaintext]
        case .require: [.encrypted]
        case .allow, .disable: [.plaintext]
        }
    }

    public enum Attempt: Sendable { case encrypted, plaintext }

    /// What we offer when we dial encrypted (`crypto_provide`).
    public var provide: CryptoMethods { self == .require ? .rc4 : [.rc4, .plaintext] }

    /// What we choose, best first, when a peer dials us encrypted (`crypto_select`).
    public var preference: [CryptoMethod] {
        switch self {
        case .prefer: [.rc4, .plaintext]
        case .require: [.rc4]
        case .allow: [.plaintext, .rc4]
        case .disable: []
        }
    }

    public var acceptsPlaintext: Bool { self != .require }
    public var acceptsEncrypted: Bool { self != .disable }

    /// How an incoming connection opens.
    public enum Opening: Equatable, Sendable {
        case needMoreBytes
        /// `\x13BitTorrent protocol`: a plaintext handshake.
        case plaintext
        /// Anything else: tried as an MSE handshake (its first 96 bytes are a public key).
        case encrypted
    }

    static let plaintextPrefix: [UInt8] = [19] + Array("BitTorrent protocol".utf8)

    /// Tells an incoming stream's kind from its first bytes, as soon as they decide it.
    public static func opening(of bytes: some Collection<UInt8>) -> Opening {
        for (byte, expected) in zip(bytes, plaintextPrefix) where byte != expected { return .encrypted }
        return bytes.count >= plaintextPrefix.count ? .plaintext : .needMoreBytes
    }
}
