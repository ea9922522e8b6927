import Synchronization

/// The session-wide connection limit, shared by every torrent and magnet.
///
/// The limit can change while connections are held (a remote's `peer-limit-global`): a lower
/// one refuses newcomers at once, and the session closes the surplus (`Session.setPeerLimits`).
public final class PeerBudget: Sendable {
    private let maximum: Atomic<Int>
    private let used = Atomic<Int>(0)

    public init(limit: Int) { maximum = Atomic(limit) }

    public var limit: Int { maximum.load(ordering: .relaxed) }
    func setLimit(_ limit: Int) { maximum.store(limit, ordering: .relaxed) }

    /// Takes a slot if one is free.
    func take() -> Bool {
        while true {
            let current = used.load(ordering: .relaxed)
            guard current < limit else { return false }
            if used.compareExchange(expected: current, desired: current + 1, ordering: .relaxed).exchanged { return true }
        }
    }

    func give() { used.subtract(1, ordering: .relaxed) }
    public var inUse: Int { used.load(ordering: .relaxed) }
}

/// The TCP port peers reach the session on, read at every announce, extension handshake and DHT
/// announce: when a remote moves it (`Session.setPeerPort`) every torrent tells the new one.
public final class ListenPort: Sendable {
    private let value: Atomic<UInt16>

    public init(_ port: UInt16) { value = Atomic(port) }

    public var current: UInt16 { value.load(ordering: .relaxed) }
    func set(_ port: UInt16) { value.store(port, ordering: .relaxed) }
}
