/// IPv6 addresses as text and as 16 bytes: parsing every form people and sockets write
/// (`::1`, `fe80::1%eth0`, `::ffff:1.2.3.4`, eight full groups) and writing the one RFC 5952
/// asks for (lowercase, no leading zeros, the longest run of zero groups as `::`), so the same
/// peer has one spelling whether it came from a tracker, PEX or a socket.
public enum IPv6Text {
    /// The 16 bytes of `text`, or nil if it is not an IPv6 address (a zone id is dropped).
    public static func bytes(_ text: some StringProtocol) -> [UInt8]? {
        var text = Substring(text)
        if let percent = text.firstIndex(of: "%") { text = text[..<percent] }
        guard text.contains(":") else { return nil }
        var tail: [UInt8] = []
        // A dotted IPv4 address may end it (`::ffff:1.2.3.4`): 4 bytes, two groups' worth.
        if let lastColon = text.lastIndex(of: ":"), text[lastColon...].contains(".") {
            let dotted = text[text.index(after: lastColon)...].split(separator: ".", omittingEmptySubsequences: false)
            guard dotted.count == 4 else { return nil }
            for part in dotted {
                guard !part.isEmpty, part.count <= 3, let byte = UInt8(part) else { return nil }
                tail.append(byte)
            }
            // Keep the colon only when it is half of a "::" (`::1.2.3.4`, `::ffff:1.2.3.4` loses it).
            text = text[...lastColon]
            if !text.hasSuffix("::") { text = text.dropLast() }
        }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard !group.isEmpty, group.count <= 4, let value = UInt16(group, radix: 16) else { return nil }
                out.append(value)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        let tailGroups = tail.count / 2
        var all: [UInt16]
        if halves.count == 2 {
            guard let rest = groups(halves[1]) else { return nil }
            let missing = 8 - head.count - rest.count - tailGroups
            guard missing >= 1 else { return nil }
            all = head + [UInt16](repeating: 0, count: missing) + rest
        } else {
            guard head.count + tailGroups == 8 else { return nil }
            all = head
        }
        var out: [UInt8] = []
        for group in all { out += [UInt8(group >> 8), UInt8(group & 0xFF)] }
        return out + tail
    }

    /// RFC 5952 text for 16 bytes.
    public static func text(_ bytes: [UInt8]) -> String {
        precondition(bytes.count == 16, "an IPv6 address is 16 bytes")
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        // The longest run of two or more zero groups (the first of equal ones) becomes "::".
        var best = (start: -1, length: 0)
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else { index += 1; continue }
            var end = index
            while end < 8 && groups[end] == 0 { end += 1 }
            if end - index > best.length { best = (index, end - index) }
            index = end
        }
        let hex = groups.map { String($0, radix: 16) }
        guard best.length >= 2 else { return hex.joined(separator: ":") }
        let left = hex[..<best.start].joined(separator: ":")
        let right = hex[(best.start + best.length)...].joined(separator: ":")
        return left + "::" + right
    }

    /// The IPv4 address an IPv4-mapped IPv6 one (`::ffff:a.b.c.d`, as a dual-stack socket
    /// reports IPv4 peers) stands for; nil for any other.
    public static func mappedIPv4(_ bytes: [UInt8]) -> String? {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return nil }
        return bytes[12...].map(String.init).joined(separator: ".")
    }
}

extension PeerAddress {
    /// One spelling per address: IPv6 hosts in RFC 5952 form, IPv4-mapped ones as plain IPv4.
    public var normalized: PeerAddress {
        guard let bytes = IPv6Text.bytes(host) else { return self }
        return PeerAddress(host: IPv6Text.mappedIPv4(bytes) ?? IPv6Text.text(bytes), port: port)
    }

    public var isIPv6: Bool { host.contains(":") }
}
