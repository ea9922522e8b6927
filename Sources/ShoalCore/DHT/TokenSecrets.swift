import Crypto

/// `get_peers` tokens (BEP 5): a hash of the asker's IP and a secret that changes every five
/// minutes; a token is accepted from the same IP for one change after it was given.
public struct TokenSecrets: Sendable {
    public static let rotation: Duration = .seconds(5 * 60)
    private var current: [UInt8]
    private var previous: [UInt8]
    private var rotatedAt: ContinuousClock.Instant

    public init(now: ContinuousClock.Instant, using rng: inout some RandomNumberGenerator) {
        current = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        previous = current
        rotatedAt = now
    }

    public mutating func rotateIfDue(now: ContinuousClock.Instant, using rng: inout some RandomNumberGenerator) {
        guard now - rotatedAt >= Self.rotation else { return }
        previous = current
        current = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        rotatedAt = now
    }

    private static func token(_ host: String, _ secret: [UInt8]) -> [UInt8] {
        Array(Insecure.SHA1.hash(data: Array(host.utf8) + secret).prefix(8))
    }

    public func token(for host: String) -> [UInt8] { Self.token(host, current) }

    public func isValid(_ token: [UInt8], for host: String) -> Bool {
        token == Self.token(host, current) || token == Self.token(host, previous)
    }
}
