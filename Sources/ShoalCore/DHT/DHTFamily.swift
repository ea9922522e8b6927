/// The address family a DHT node runs in. BEP 32 keeps an IPv4 and an IPv6 DHT side by side:
/// one routing table each, nodes of one family handed out as `nodes` and of the other as
/// `nodes6`, and a querier may `want` either or both.
public enum DHTFamily: String, Sendable, Hashable, CaseIterable, Comparable {
    case ipv4 = "n4"
    case ipv6 = "n6"

    /// The family of an address as this program spells it (IPv4-mapped IPv6 normalised away).
    public init(of address: PeerAddress) { self = address.isIPv6 ? .ipv6 : .ipv4 }

    /// The family of a bind address or host: anything with a colon is IPv6.
    public init(host: String) { self = host.contains(":") ? .ipv6 : .ipv4 }

    public static func < (a: DHTFamily, b: DHTFamily) -> Bool { a.rawValue < b.rawValue }

    public var name: String { self == .ipv4 ? "IPv4" : "IPv6" }
}
