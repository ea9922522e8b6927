/// The uTP side of one UDP socket (the peer port's, shared with the DHT): which connection each
/// datagram is for, by the sender's address and the connection id it carries (BEP 29: ours to
/// receive on), which SYNs open a new one, and the RESET a stranger's packet gets. Pure: the
/// socket, the connections and their timers are the caller's.
public struct UTPSocketTable<Address: Hashable & Sendable>: Sendable {
    public struct Key: Hashable, Sendable {
        public let address: Address
        /// The id packets to us carry on this connection.
        public let receiveID: UInt16

        public init(address: Address, receiveID: UInt16) {
            self.address = address
            self.receiveID = receiveID
        }
    }

    public enum Route: Sendable {
        /// Not uTP (the DHT's bencoded messages start with 'd'): for the DHT.
        case notUTP
        /// For a connection in the table.
        case connection(Key, UTPPacket)
        /// A SYN to accept: the caller makes the connection (`UTPConnection.accept`) and `insert`s it.
        case accept(Key, UTPPacket)
        /// Send this back (a RESET: the sender's connection is not ours, or we take no more), and why.
        case reply(UTPPacket, String)
        /// Nothing to do, and why.
        case drop(String)
    }

    public private(set) var keys: Set<Key> = []
    /// Connections at most (dialled and accepted); a SYN past it is refused with a RESET, so the
    /// peer falls back to TCP at once rather than after its SYN timeouts.
    public var limit: Int
    public var acceptsIncoming: Bool
    /// RESETs to strangers, at most this many a second (each is no larger than what it answers,
    /// but a flood of spoofed packets should not become a flood of ours).
    public static var resetsPerSecond: Int { 20 }
    private var resetWindow: (start: ContinuousClock.Instant, count: Int)?

    public init(limit: Int, acceptsIncoming: Bool = true) {
        self.limit = limit
        self.acceptsIncoming = acceptsIncoming
    }

    public var count: Int { keys.count }

    public mutating func route(_ datagram: [UInt8], from address: Address, now: ContinuousClock.Instant) -> Route {
        guard let first = datagram.first, UTPPacket.looksLikeUTP(first) else { return .notUTP }
        let packet: UTPPacket
        do {
            packet = try UTPPacket(decoding: datagram)
        } catch {
            return .drop("\(error)")
        }
        if packet.kind == .syn {
            let key = Key(address: address, receiveID: packet.connectionID &+ 1)
            // A SYN again for a connection we have: the connection answers it.
            if keys.contains(key) { return .connection(key, packet) }
            guard acceptsIncoming else { return refuse(packet, now: now, "uTP connections are not accepted") }
            guard keys.count < limit else { return refuse(packet, now: now, "uTP connection limit (\(limit)) reached") }
            return .accept(key, packet)
        }
        let key = Key(address: address, receiveID: packet.connectionID)
        if keys.contains(key) { return .connection(key, packet) }
        if packet.kind == .reset {
            // A stranger's RESET cannot know which side of the id pair we are (libtorrent sends
            // the id of the packet it answers): one off either way, from the same address, counts.
            for id in [packet.connectionID &- 1, packet.connectionID &+ 1] where keys.contains(Key(address: address, receiveID: id)) {
                return .connection(Key(address: address, receiveID: id), packet)
            }
            return .drop("a RESET for no connection of ours")
        }
        return refuse(packet, now: now, "no uTP connection \(packet.connectionID) from this address")
    }

    /// A RESET for a packet we will not take, unless too many went out this second.
    private mutating func refuse(_ packet: UTPPacket, now: ContinuousClock.Instant, _ why: String) -> Route {
        if let window = resetWindow, now - window.start < .seconds(1) {
            guard window.count < Self.resetsPerSecond else { return .drop(why + "; too many RESETs this second to answer") }
            resetWindow = (window.start, window.count + 1)
        } else {
            resetWindow = (now, 1)
        }
        // A SYN carries the id its sender receives on; a later packet the one it sends with,
        // which is one off from its receive id: the RESET carries it as it came (see above).
        return .reply(UTPPacket(kind: .reset, connectionID: packet.connectionID, sequence: 0, ack: packet.sequence), why)
    }

    /// An id to dial `address` with that no connection of ours to it uses (nor its +1, which
    /// the answer's packets will carry to the other side). Taken into the table.
    public mutating func reserveDialID(to address: Address, using random: inout some RandomNumberGenerator) -> Key? {
        guard keys.count < limit else { return nil }
        for _ in 0..<64 {
            let id = UInt16.random(in: 0...UInt16.max, using: &random)
            let key = Key(address: address, receiveID: id)
            guard !keys.contains(key), !keys.contains(Key(address: address, receiveID: id &+ 1)),
                  !keys.contains(Key(address: address, receiveID: id &- 1)) else { continue }
            keys.insert(key)
            return key
        }
        return nil
    }

    public mutating func insert(_ key: Key) { keys.insert(key) }
    public mutating func remove(_ key: Key) { keys.remove(key) }
}
