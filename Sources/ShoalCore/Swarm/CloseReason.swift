/// Why a connection to a peer ended (or never began): a kind that is counted per torrent and
/// shown in the interface, and the words that go into the log.
public struct CloseReason: Sendable, Hashable, CustomStringConvertible {
    /// Few enough kinds to count and show in a row; the detail says the rest.
    public enum Kind: String, Sendable, Hashable, CaseIterable, Codable {
        case connectFailed = "could not connect"
        case handshakeFailed = "handshake failed"
        case timedOut = "timed out"
        case closedByPeer = "closed by the peer"
        case connectionError = "connection error"
        case protocolViolation = "protocol violation"
        case flood = "flooded us"
        case badData = "banned for bad data"
        case banned = "banned earlier"
        case duplicate = "duplicate connection"
        case enoughPeers = "we had enough peers"
        case useless = "neither side interested"
        case bothSeeds = "both seeds"
        case ourselves = "connected to ourselves"
        case diskError = "disk error"
        case stopped = "torrent stopped"
        case byUser = "closed by the user"

        /// A few letters for a column of counts.
        public var short: String {
            switch self {
            case .connectFailed: "connect"
            case .handshakeFailed: "handshake"
            case .timedOut: "timeout"
            case .closedByPeer: "by peer"
            case .connectionError: "error"
            case .protocolViolation: "protocol"
            case .flood: "flood"
            case .badData: "bad data"
            case .banned: "banned"
            case .duplicate: "duplicate"
            case .enoughPeers: "slots full"
            case .useless: "uninterested"
            case .bothSeeds: "both seeds"
            case .ourselves: "self"
            case .diskError: "disk"
            case .stopped: "stopped"
            case .byUser: "by user"
            }
        }
    }

    public let kind: Kind
    public let detail: String

    public init(_ kind: Kind, _ detail: String = "") {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { detail.isEmpty ? kind.rawValue : "\(kind.rawValue): \(detail)" }

    public static func violation(_ detail: String) -> CloseReason { CloseReason(.protocolViolation, detail) }
}

/// How many connections ended for each reason.
public struct CloseCounts: Sendable, Hashable {
    public private(set) var counts: [CloseReason.Kind: Int] = [:]

    public init() {}

    public mutating func add(_ kind: CloseReason.Kind, count: Int = 1) { counts[kind, default: 0] += count }

    public subscript(kind: CloseReason.Kind) -> Int { counts[kind] ?? 0 }

    public var total: Int { counts.values.reduce(0, +) }

    /// "closed 12: 5 by peer, 3 slots full, …", most frequent first: the Peers tab's last row
    /// and the headless `closed:` line.
    public var summary: String {
        "closed \(total): " + ranked.map { "\($0.count) \($0.kind.short)" }.joined(separator: ", ")
    }

    /// Kinds that happened, most frequent first (ties in declaration order, so a display is stable).
    public var ranked: [(kind: CloseReason.Kind, count: Int)] {
        CloseReason.Kind.allCases.compactMap { kind in counts[kind].map { (kind, $0) } }
            .enumerated().sorted { $0.element.count != $1.element.count ? $0.element.count > $1.element.count : $0.offset < $1.offset }
            .map(\.element)
    }
}

extension CloseReason {
    /// Bytes that do not decode as peer messages break the protocol.
    public init(_ error: PeerWireDecoder.DecodeError) { self.init(.protocolViolation, error.description) }
}
