import Foundation
import Synchronization

/// File descriptors are one budget per process (`ulimit -n`, 1024 by default): running out
/// fails opens and accepts at random, and libdispatch traps when it cannot get one. At start
/// the soft limit is raised to the hard one; the result is split between the open-file pool
/// (`FilePool`) and sockets (peers, trackers, metadata fetches), with a reserve for the rest
/// (stdio, event loops, listeners, the DHT, state files, inotify). Every socket Shoal opens
/// first takes a slot here, so the budget runs out before the process does.
public final class DescriptorBudget: Sendable {
    public static let shared = DescriptorBudget(limit: raiseSoftLimit())

    /// What the process may have open.
    public let limit: Int
    /// Open files the pool keeps at most.
    public let files: Int
    /// Sockets open at once, at most.
    public let sockets: Int
    /// Descriptors kept for everything not counted: event loops, listeners, stdio, state files.
    public static let reserve = 64
    private let socketsInUse = Atomic<Int>(0)

    public init(limit: Int) {
        self.limit = limit
        let usable = max(24, limit - Self.reserve)
        // A quarter for files, within 8...512: enough for any torrent's working set (files are
        // reopened as needed), and most of a small limit left for peers.
        files = min(512, max(8, usable / 4))
        sockets = max(16, usable - files)
    }

    /// Takes a socket slot if one is free.
    public func takeSocket() -> Bool {
        while true {
            let current = socketsInUse.load(ordering: .relaxed)
            guard current < sockets else { return false }
            if socketsInUse.compareExchange(expected: current, desired: current + 1, ordering: .relaxed).exchanged { return true }
        }
    }

    public func giveSocket() { socketsInUse.subtract(1, ordering: .relaxed) }

    public var socketsOpen: Int { socketsInUse.load(ordering: .relaxed) }

    /// Runs `body` holding a socket slot; without one, throws at once.
    public func withSocket<T>(_ body: () async throws -> T) async throws -> T {
        guard takeSocket() else { throw Exhausted() }
        defer { giveSocket() }
        return try await body()
    }

    public struct Exhausted: Error, CustomStringConvertible {
        public var description: String { "no file descriptor free for another connection (ulimit -n)" }
    }

    /// Raises the soft `RLIMIT_NOFILE` to the hard limit (capped: a million idle descriptors
    /// buy nothing) and returns the limit in force.
    @discardableResult
    public static func raiseSoftLimit() -> Int {
        var limits = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0 else { return 1024 }
        let wanted = min(limits.rlim_max, 1 << 20)
        if limits.rlim_cur < wanted {
            var raised = limits
            raised.rlim_cur = wanted
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return Int(wanted) }
        }
        return Int(min(limits.rlim_cur, 1 << 20))
    }
}
