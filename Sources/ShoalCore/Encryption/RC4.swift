/// The RC4 stream cipher, as Message Stream Encryption uses it. Small enough to write and test
/// against the published vectors (RFC 6229); not a cipher to choose for anything new.
///
/// The state lives in a 256-entry table of `UInt32` rather than bytes: word loads and stores
/// avoid the partial-register merges byte stores cost in this tight loop.
public struct RC4: Sendable {
    private var table: [UInt32]
    private var i: UInt32 = 0
    private var j: UInt32 = 0

    public init(key: some Collection<UInt8>) {
        precondition(!key.isEmpty && key.count <= 256, "RC4 keys are 1 to 256 bytes")
        let key = Array(key)
        var table = (0..<256).map { UInt32($0) }
        var j: UInt32 = 0
        for i in 0..<256 {
            j = (j &+ table[i] &+ UInt32(key[i % key.count])) & 0xFF
            table.swapAt(i, Int(j))
        }
        self.table = table
    }

    /// RC4 keyed with `key`, its first `discard` bytes of keystream thrown away (MSE: 1,024).
    public init(key: some Collection<UInt8>, discard: Int) {
        self.init(key: key)
        skip(discard)
    }

    /// Advances the keystream by `count` bytes.
    public mutating func skip(_ count: Int) {
        var scratch = [UInt8](repeating: 0, count: count)
        apply(&scratch)
    }

    /// Encrypts or decrypts (the same operation) `bytes` in place.
    public mutating func apply(_ bytes: UnsafeMutableRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        var i = self.i
        var j = self.j
        table.withUnsafeMutableBufferPointer { s in
            for n in 0..<bytes.count {
                i = (i &+ 1) & 0xFF
                let si = s[Int(i)]
                j = (j &+ si) & 0xFF
                let sj = s[Int(j)]
                s[Int(i)] = sj
                s[Int(j)] = si
                bytes[n] ^= UInt8(truncatingIfNeeded: s[Int((si &+ sj) & 0xFF)])
            }
        }
        self.i = i
        self.j = j
    }

    public mutating func apply(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { apply($0) }
    }

    /// `bytes` encrypted (or decrypted), as a new array.
    public mutating func applied(to bytes: some Collection<UInt8>) -> [UInt8] {
        var copy = Array(bytes)
        apply(&copy)
        return copy
    }

    /// The next `count` bytes of keystream, without consuming them (what an encrypted run of
    /// zero bytes will look like: MSE's verification constant).
    public func peekKeystream(_ count: Int) -> [UInt8] {
        var copy = self
        return copy.applied(to: [UInt8](repeating: 0, count: count))
    }
}
