import Glibc

/// Whether a host is written as an IPv4 or IPv6 address rather than a name: the RPC's host
/// check lets addresses through (DNS rebinding needs a name), and TLS sends no SNI for them.
enum AddressLiteral {
    static func matches(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
