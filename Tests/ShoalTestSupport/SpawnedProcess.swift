import Foundation
import Synchronization

/// A child process started with `posix_spawn`, for tests. Not Foundation's `Process`: its
/// `run()` on Linux reads past a buffer while listing /proc/self/fd (swift-corelibs-foundation
/// PR #5472, Swift 6.3.1) and crashed a CI run that spawned many clients. The child's output
/// goes to the file descriptors given; it is reaped by whoever asks first whether it runs.
public final class SpawnedProcess: Sendable {
    public let processIdentifier: pid_t
    private let status = Mutex<Int32?>(nil)

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts `executable` with `arguments`, stdin from /dev/null, stdout and stderr to
    /// `output` and `error` (descriptors the caller keeps), in `directory` if given, with
    /// `environment` added to the test's own.
    public init(_ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String] = [:],
                output: Int32, error: Int32) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, error, 2)
        // Nothing else of the test's goes with it: a session's listening socket or connections
        // held open by a child would outlive their close (what `Process` does by listing
        // /proc/self/fd, here glibc's closefrom action, looked up as Swift does not import it).
        guard let closeFrom = Self.addCloseFrom, closeFrom(&actions, 3) == 0 else {
            throw Failure(description: "cannot arrange for the child to close the test's descriptors")
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with default signal handling and nothing blocked (the test's threads
        // may block SIGTERM, and a child inheriting that would ignore `terminate()`).
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let env = ProcessInfo.processInfo.environment.merging(environment) { _, given in given }.map { "\($0.key)=\($0.value)" }
        // A working directory through coreutils' `env -C` (glibc's addchdir_np is not exported to Swift).
        let command = directory.map { ["/usr/bin/env", "-C", $0, executable] } ?? [executable]
        var pid: pid_t = 0
        let result = withCStrings(command + arguments) { argv in
            withCStrings(env) { envp in posix_spawn(&pid, command[0], &actions, &attributes, argv, envp) }
        }
        guard result == 0 else { throw Failure(description: "cannot start \(executable): \(String(cString: strerror(result)))") }
        processIdentifier = pid
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    deinit {
        if isRunning { kill(processIdentifier, SIGKILL) }
        _ = reap(blocking: true)
    }

    /// Its exit status (or 128 + the signal that ended it), once reaped.
    private func reap(blocking: Bool) -> Int32? {
        status.withLock { status in
            if let status { return status }
            var raw: Int32 = 0
            let got = waitpid(processIdentifier, &raw, blocking ? 0 : WNOHANG)
            guard got == processIdentifier else { return nil }
            let exited = raw & 0x7F == 0
            status = exited ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
            return status
        }
    }

    public var isRunning: Bool { reap(blocking: false) == nil }
    /// Meaningful once it has ended.
    public var terminationStatus: Int32 { reap(blocking: false) ?? -1 }
    public func terminate() { if isRunning { kill(processIdentifier, SIGTERM) } }
    public func interrupt() { if isRunning { kill(processIdentifier, SIGINT) } }
    /// Blocks until it ends.
    public func waitUntilExit() { _ = reap(blocking: true) }
}

/// `body` with a NULL-terminated C array of the strings.
private func withCStrings<T>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> T) -> T {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return body(pointers)
}
