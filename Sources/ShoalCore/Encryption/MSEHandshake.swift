/// Message Stream Encryption (MSE/PE), the handshake every BitTorrent client speaks to hide its
/// traffic: Diffie–Hellman, then RC4 (or, if both sides agree, plaintext) for the peer protocol.
/// Pure: fed the bytes the peer sent, it returns the bytes to send and, once done, the stream's
/// ciphers and the payload bytes that came after the handshake, already decrypted.
///
///     A → B  Ya, PadA
///     B → A  Yb, PadB
///     A → B  HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
///            ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
///     B → A  ENCRYPT(VC, crypto_select, len(PadD), PadD)
///
/// Every wait is bounded in bytes (padding at most 512, the initial payload at most
/// `maxInitialPayload`); the caller bounds it in time.
public struct MSEHandshake: Sendable {
    public static let maxPadding = 512
    /// The initial payload a responder takes (libtorrent and Transmission send the 68-byte
    /// BitTorrent handshake there, if anything).
    public static let maxInitialPayload = 4096
    static let verificationConstant = [UInt8](repeating: 0, count: 8)

    /// Finds the torrent an initiator asks for by `MSEKeyExchange.obfuscatedKey(for:)`.
    public typealias TorrentLookup = @Sendable ([UInt8]) -> InfoHash?

    enum Stage: Sendable {
        case awaitingKey
        // Initiator
        case awaitingVerification
        case awaitingSelect
        case awaitingPadD(Int)
        // Responder
        case awaitingReq1
        case awaitingTorrent
        case awaitingProvide
        case awaitingPadC(Int)
        case awaitingInitialPayloadLength
        case awaitingInitialPayload(Int)
        case done
    }

    enum Role: Sendable {
        case initiator(infoHash: InfoHash, provide: CryptoMethods)
        case responder(preference: [CryptoMethod], lookup: TorrentLookup)
    }

    let role: Role
    let keys: MSEKeyExchange
    /// Our padding (PadA or PadB) and the one that follows the verification constant (PadC or PadD).
    let firstPad: [UInt8]
    let secondPad: [UInt8]
    var stage = Stage.awaitingKey
    /// Received bytes not consumed yet, as they came off the wire.
    var buffer: [UInt8] = []
    var secret: [UInt8] = []
    var infoHash: InfoHash?
    var incoming: RC4?
    var outgoing: RC4?
    var provided = CryptoMethods()
    var selected: CryptoMethod?
    var initialPayload: [UInt8] = []

    /// The initiator, for the torrent `infoHash`, offering `provide`; send `opening` first.
    public static func initiator(infoHash: InfoHash, provide: CryptoMethods,
                                 using random: inout some RandomNumberGenerator) -> (handshake: MSEHandshake, opening: [UInt8]) {
        let handshake = MSEHandshake(role: .initiator(infoHash: infoHash, provide: provide), using: &random)
        return (handshake, handshake.keys.publicKey + handshake.firstPad)
    }

    /// The responder, choosing the first method of `preference` the initiator offers.
    public static func responder(preference: [CryptoMethod], lookup: @escaping TorrentLookup,
                                 using random: inout some RandomNumberGenerator) -> MSEHandshake {
        MSEHandshake(role: .responder(preference: preference, lookup: lookup), using: &random)
    }

    private init(role: Role, using random: inout some RandomNumberGenerator) {
        self.role = role
        keys = MSEKeyExchange(using: &random)
        firstPad = Self.padding(using: &random)
        secondPad = Self.padding(using: &random)
    }

    static func padding(using random: inout some RandomNumberGenerator) -> [UInt8] {
        (0..<Int.random(in: 0...maxPadding, using: &random)).map { _ in random.next() }
    }

    /// What one read of the peer's bytes led to.
    public struct Step: Sendable {
        /// To send to the peer, in order, before any payload.
        public var send: [UInt8] = []
        /// Set once the handshake is complete.
        public var established: MSEStream?
    }

    public var isDone: Bool {
        if case .done = stage { return true }
        return false
    }

    /// Takes the peer's next bytes.
    public mutating func receive(_ bytes: some Collection<UInt8>) throws(MSEFailure) -> Step {
        guard !isDone else { throw MSEFailure("bytes after the handshake was done") }
        buffer.append(contentsOf: bytes)
        var step = Step()
        while try advance(&step) {}
        return step
    }

    /// One stage forward if the buffer holds enough; false when it must wait for more bytes.
    private mutating func advance(_ step: inout Step) throws(MSEFailure) -> Bool {
        switch stage {
        case .awaitingKey:
            guard let theirs = take(MSEKeyExchange.keyLength) else { return false }
            guard let secret = keys.sharedSecret(with: theirs) else { throw MSEFailure("the peer's public key is degenerate") }
            self.secret = secret
            switch role {
            case .initiator(let infoHash, let provide):
                step.send += initiatorRequest(infoHash: infoHash, provide: provide)
                stage = .awaitingVerification
            case .responder:
                step.send += keys.publicKey + firstPad
                stage = .awaitingReq1
            }
            return true
        case .awaitingVerification, .awaitingSelect, .awaitingPadD:
            return try advanceInitiator(&step)
        case .awaitingReq1, .awaitingTorrent, .awaitingProvide, .awaitingPadC, .awaitingInitialPayloadLength,
             .awaitingInitialPayload:
            return try advanceResponder(&step)
        case .done:
            return false
        }
    }

    // MARK: Reading the buffer

    /// The next `count` bytes, decrypted if the incoming cipher runs; nil if not all there yet.
    mutating func take(_ count: Int) -> [UInt8]? {
        guard buffer.count >= count else { return nil }
        var taken = Array(buffer.prefix(count))
        buffer.removeFirst(count)
        incoming?.apply(&taken)
        return taken
    }

    /// Drops bytes up to the first occurrence of `pattern`, and the pattern itself; false if it
    /// is not in the buffer yet. Throws once more than `limit` bytes were searched in vain.
    mutating func skip(past pattern: [UInt8], within limit: Int, what: String) throws(MSEFailure) -> Bool {
        if buffer.count >= pattern.count {
            for start in 0...(buffer.count - pattern.count) where start <= limit {
                if buffer[start] == pattern[0], buffer[start..<start + pattern.count].elementsEqual(pattern) {
                    buffer.removeFirst(start + pattern.count)
                    return true
                }
            }
        }
        if buffer.count >= limit + pattern.count { throw MSEFailure("no \(what) within \(limit) bytes of padding") }
        return false
    }

    static func uint16(_ bytes: [UInt8]) -> Int { Int(bytes[0]) << 8 | Int(bytes[1]) }

    static func uint32(_ bytes: [UInt8]) -> UInt32 {
        bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    static func bigEndian(_ value: Int, bytes count: Int) -> [UInt8] {
        (0..<count).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }

    mutating func finish() -> MSEStream {
        stage = .done
        let method = selected ?? .plaintext
        var rest = buffer
        buffer = []
        // Past the handshake the stream is plaintext unless RC4 was chosen (the initial payload
        // was encrypted either way).
        if method == .rc4 { incoming?.apply(&rest) }
        return MSEStream(method: method, infoHash: infoHash!, outgoing: method == .rc4 ? outgoing : nil,
                         incoming: method == .rc4 ? incoming : nil, payload: initialPayload + rest)
    }
}

/// Crypto methods as `crypto_provide` and `crypto_select` name them.
public enum CryptoMethod: UInt32, Sendable, CustomStringConvertible {
    case plaintext = 1
    case rc4 = 2

    public var description: String { self == .rc4 ? "RC4" : "plaintext" }
}

public struct CryptoMethods: OptionSet, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let plaintext = CryptoMethods(rawValue: CryptoMethod.plaintext.rawValue)
    public static let rc4 = CryptoMethods(rawValue: CryptoMethod.rc4.rawValue)

    public func contains(_ method: CryptoMethod) -> Bool { contains(CryptoMethods(rawValue: method.rawValue)) }

    public var description: String {
        let names = [CryptoMethod.rc4, .plaintext].filter(contains).map(\.description)
        return names.isEmpty ? "nothing known (0x\(String(rawValue, radix: 16)))" : names.joined(separator: " or ")
    }
}

/// A finished handshake: how the rest of the stream travels.
public struct MSEStream: Sendable {
    public let method: CryptoMethod
    public let infoHash: InfoHash
    /// Encrypts what we send; nil when the stream continues in plaintext.
    public var outgoing: RC4?
    /// Decrypts what we receive; nil when the stream continues in plaintext.
    public var incoming: RC4?
    /// Payload the peer sent with or after its last handshake message, decrypted.
    public let payload: [UInt8]
}

public struct MSEFailure: Error, Sendable, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
