import Crypto
import ShoalCore

/// BEP 15 connection ids that need no table and cannot be forged: an HMAC of the client's
/// address and the current minute under a secret made at start. An id is accepted during the
/// minute it was made and the next one, so it lives between one and two minutes.
public struct ConnectionIDs: Sendable {
    /// The secret's bytes (SymmetricKey itself is not Sendable in this swift-crypto).
    private let secret: [UInt8]
    private let origin: ContinuousClock.Instant

    public init(origin: ContinuousClock.Instant = .now) {
        secret = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        self.origin = origin
    }

    private func window(_ now: ContinuousClock.Instant) -> Int64 { (now - origin).components.seconds / 60 }

    private func id(for client: String, window: Int64) -> UInt64 {
        var message = Array(client.utf8)
        message.appendBigEndian(UInt64(bitPattern: window))
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        return Array(mac).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    public func issue(for client: String, now: ContinuousClock.Instant) -> UInt64 {
        id(for: client, window: window(now))
    }

    public func isValid(_ connectionID: UInt64, for client: String, now: ContinuousClock.Instant) -> Bool {
        let current = window(now)
        return connectionID == id(for: client, window: current) || connectionID == id(for: client, window: current - 1)
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}
