import Crypto

/// The pieces a peer may request from us while choked (BEP 6), derived from its address and
/// the info-hash so both sides compute the same set.
public enum AllowedFastSet {
    /// `address` is an IPv4 address; other families get no set.
    public static func pieces(for address: String, infoHash: InfoHash, pieceCount: Int, count k: Int) -> [Int] {
        let octets = address.split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4, pieceCount > 0 else { return [] }
        let wanted = min(k, pieceCount)
        var x = [octets[0], octets[1], octets[2], 0] + infoHash.bytes
        var set: [Int] = []
        while set.count < wanted {
            x = Array(Insecure.SHA1.hash(data: x))
            for i in 0..<5 where set.count < wanted {
                let y = x.bigEndianUInt32(at: i * 4)
                let index = Int(y % UInt32(pieceCount))
                if !set.contains(index) { set.append(index) }
            }
        }
        return set
    }
}
