import Glibc
import ShoalCore

/// This machine's addresses, for what the session tells trackers about itself.
enum LocalAddresses {
    /// The global IPv6 address to announce as `ipv6=`: a bind address that is one, else (when
    /// listening on `::`) the first global unicast address of an interface that is up; nil when
    /// there is none (loopback and link-local addresses are never announced).
    static func announcedIPv6(binds: [String]) -> String? {
        if let explicit = binds.first(where: { IPv6Text.bytes($0).map(isGlobal) ?? false }) {
            return IPv6Text.text(IPv6Text.bytes(explicit)!)
        }
        guard binds.contains(where: { IPv6Text.bytes($0) == [UInt8](repeating: 0, count: 16) }) else { return nil }
        return interfaceIPv6().first(where: isGlobal).map(IPv6Text.text)
    }

    /// 2000::/3, the global unicast range.
    static func isGlobal(_ bytes: [UInt8]) -> Bool { bytes.count == 16 && bytes[0] & 0xE0 == 0x20 }

    private static func interfaceIPv6() -> [[UInt8]] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var out: [[UInt8]] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard entry.pointee.ifa_flags & UInt32(IFF_UP) != 0, let address = entry.pointee.ifa_addr,
                  address.pointee.sa_family == sa_family_t(AF_INET6) else { continue }
            address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { six in
                out.append(withUnsafeBytes(of: six.pointee.sin6_addr) { Array($0) })
            }
        }
        return out
    }
}
