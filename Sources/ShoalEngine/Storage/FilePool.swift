import Foundation
import Synchronization
import SystemPackage

/// The open files of every torrent in the process, at most `capacity` at once; the least
/// recently used one that nobody is reading or writing is closed to make room (libtorrent's and
/// Transmission's file pools do the same). A descriptor is used only between `checkout` and
/// `checkin`, so one is never closed, and its number reused, under a read or write.
final class FilePool: Sendable {
    static let shared = FilePool(capacity: DescriptorBudget.shared.files)

    struct Key: Hashable {
        /// The storage's `FilePool.newOwner()` number (never reused, unlike an object's address).
        let owner: UInt64
        let file: Int
        let writable: Bool
    }

    private static let owners = Atomic<UInt64>(0)
    static func newOwner() -> UInt64 { owners.add(1, ordering: .relaxed).newValue }

    private struct Entry {
        let descriptor: FileDescriptor
        var users = 0
        var lastUse: UInt64
        /// Written since its last fsync: flushed before it is closed to make room, so a
        /// resume record made after `sync` never counts on data only in a closed file's cache.
        var dirty = false
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// Entries whose owner closed everything while they were in use: closed when their
        /// last user checks in, never handed out again.
        var doomed: [Entry] = []
        var clock: UInt64 = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = max(2, capacity) }

    var openCount: Int { state.withLock { $0.entries.count + $0.doomed.count } }

    /// An open descriptor for the key, opened with `open` if needed; pair with `checkin`.
    func checkout(_ key: Key, open: () throws -> FileDescriptor) throws -> FileDescriptor {
        if let existing = take(key) { return existing }
        let fresh = try open()
        var evicted: [Entry] = []
        let chosen = state.withLock { state -> FileDescriptor in
            state.clock += 1
            if var existing = state.entries[key] {
                // Another thread opened it meanwhile: keep one descriptor per key.
                existing.users += 1
                existing.lastUse = state.clock
                state.entries[key] = existing
                evicted.append(Entry(descriptor: fresh, lastUse: 0))
                return existing.descriptor
            }
            state.entries[key] = Entry(descriptor: fresh, users: 1, lastUse: state.clock)
            evicted += Self.makeRoom(&state, capacity: capacity)
            return fresh
        }
        Self.close(evicted)
        return chosen
    }

    /// The key's descriptor if it is open now, checked out; never opens one (for the event
    /// loop's page-cache reads, which must not block).
    func checkoutIfOpen(_ key: Key) -> FileDescriptor? { take(key) }

    /// Gives back `descriptor`, checked out under `key`.
    func checkin(_ key: Key, _ descriptor: FileDescriptor, wrote: Bool = false) {
        var closing: [Entry] = []
        state.withLock { state in
            if var entry = state.entries[key], entry.descriptor == descriptor {
                entry.users -= 1
                if wrote { entry.dirty = true }
                state.entries[key] = entry
                if state.entries.count > capacity { closing += Self.makeRoom(&state, capacity: capacity) }
            } else if let index = state.doomed.firstIndex(where: { $0.descriptor == descriptor }) {
                state.doomed[index].users -= 1
                if wrote { state.doomed[index].dirty = true }
                if state.doomed[index].users == 0 { closing.append(state.doomed.remove(at: index)) }
            }
        }
        Self.close(closing)
    }

    /// fsyncs every written descriptor of `owner` that is open (held checked out meanwhile,
    /// so none is closed under the fsync).
    func sync(owner: UInt64) {
        let held = state.withLock { state -> [(Key, FileDescriptor)] in
            var out: [(Key, FileDescriptor)] = []
            for (key, var entry) in state.entries where key.owner == owner && entry.dirty {
                entry.users += 1
                entry.dirty = false  // a write landing during the fsync marks it again
                state.entries[key] = entry
                out.append((key, entry.descriptor))
            }
            return out
        }
        for (key, descriptor) in held {
            _ = fsync(descriptor.rawValue)
            checkin(key, descriptor)
        }
    }

    /// Closes every descriptor of `owner` (those in use, as their last user leaves).
    func closeAll(owner: UInt64) {
        let closing = state.withLock { state -> [Entry] in
            var out: [Entry] = []
            for (key, entry) in state.entries where key.owner == owner {
                state.entries[key] = nil
                if entry.users == 0 { out.append(entry) } else { state.doomed.append(entry) }
            }
            return out
        }
        Self.close(closing)
    }

    private func take(_ key: Key) -> FileDescriptor? {
        state.withLock { state in
            guard var entry = state.entries[key] else { return nil }
            state.clock += 1
            entry.users += 1
            entry.lastUse = state.clock
            state.entries[key] = entry
            return entry.descriptor
        }
    }

    /// Removes least recently used idle entries until the pool fits; returns them to close.
    private static func makeRoom(_ state: inout State, capacity: Int) -> [Entry] {
        var out: [Entry] = []
        while state.entries.count > capacity {
            var victim: (key: Key, lastUse: UInt64)?
            for (key, entry) in state.entries where entry.users == 0 && entry.lastUse < (victim?.lastUse ?? .max) {
                victim = (key, entry.lastUse)
            }
            // Every descriptor in use: the pool is over for a moment, by at most the threads using it.
            guard let victim else { break }
            out.append(state.entries.removeValue(forKey: victim.key)!)
        }
        return out
    }

    private static func close(_ entries: [Entry]) {
        for entry in entries {
            if entry.dirty { _ = fsync(entry.descriptor.rawValue) }
            try? entry.descriptor.close()
        }
    }
}
