import Crypto

/// A v1 info-hash: the SHA-1 of the raw bencoded `info` dictionary. 20 bytes.
public struct InfoHash: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// Accepts exactly 20 bytes.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 20 else { return nil }
        self.bytes = Array(bytes)
    }

    /// Hashes the raw bytes of an `info` dictionary as they were received.
    public init(hashingInfo raw: some Collection<UInt8>) {
        self.bytes = Array(Insecure.SHA1.hash(data: Array(raw)))
    }

    /// Accepts 40 hex digits (either case) or 32 base32 characters (BEP 9 magnet form).
    public init?(text: String) {
        if text.utf8.count == 40, let decoded = Hex.decode(text) {
            self.bytes = decoded
        } else if text.utf8.count == 32, let decoded = Base32.decode(text), decoded.count == 20 {
            self.bytes = decoded
        } else {
            return nil
        }
    }

    /// Lower-case hex, the form every client shows.
    public var hex: String { Hex.encode(bytes) }

    public var description: String { hex }

    public static func < (lhs: InfoHash, rhs: InfoHash) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    public static func == (lhs: InfoHash, rhs: InfoHash) -> Bool { lhs.bytes == rhs.bytes }

    /// All 20 bytes as three words: the synthesized hash fed them one byte at a time, and the
    /// session's tables are looked up by info-hash for every torrent of every snapshot.
    public func hash(into hasher: inout Hasher) { Self.combine(bytes, into: &hasher) }

    /// Shared with `NodeID`, the other 20-byte key. Any other length is hashed byte by byte.
    public static func combine(_ bytes: [UInt8], into hasher: inout Hasher) {
        guard bytes.count == 20 else { return hasher.combine(bytes) }
        bytes.withUnsafeBytes { raw in
            hasher.combine(raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
            hasher.combine(raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            hasher.combine(raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        }
    }
}

/// Lower-case hexadecimal text for byte strings.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    static func nibble(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return char - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// RFC 4648 base32 (upper-case alphabet, no padding), as magnet links use for info-hashes.
public enum Base32 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt64 = 0
        var bits = 0
        for char in text.utf8 where char != UInt8(ascii: "=") {
            let value: UInt8
            switch char {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = char - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = char - UInt8(ascii: "a")
            case UInt8(ascii: "2")...UInt8(ascii: "7"): value = char - UInt8(ascii: "2") + 26
            default: return nil
            }
            buffer = buffer << 5 | UInt64(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt64(bits)))
            }
        }
        return out
    }

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer: UInt64 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt64(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int((buffer >> UInt64(bits)) & 31)])
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt64(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
