/// How many block requests to keep outstanding with one peer: enough to cover about two seconds
/// at the rate it is delivering, so a fast peer is never idle waiting for our next request and a
/// slow one does not hoard blocks others could fetch.
public enum RequestPipeline {
    public static let minimumDepth = 4
    public static let maximumDepth = 500
    public static let snubbedDepth = 1
    public static let coverage = 2.0

    /// Blocks a torrent may have in flight across all its peers, counting those still waiting
    /// for the disk (8 MiB): what arrives is held in memory until written, so this bounds memory
    /// with many fast peers. It still covers a 100 MiB/s link with 80 ms of delay.
    public static let torrentBudget = 512

    /// How many requests to add for a peer: up to its depth, within what the torrent's budget
    /// has left; a peer below `minimumDepth` may always go up to it, so none is starved by
    /// faster ones holding the budget.
    public static func wanted(depth: Int, outstanding: Int, torrentOutstanding: Int) -> Int {
        let withinBudget = min(depth - outstanding, torrentBudget - torrentOutstanding)
        return max(withinBudget, min(depth, minimumDepth) - outstanding, 0)
    }

    /// How many requests to send a peer now: what `wanted` allows, but a deep pipeline is
    /// topped up in batches (an eighth of its depth, up to 16 blocks), not a request per
    /// arriving block — one write for many requests. An empty pipeline is always filled.
    public static func topUp(depth: Int, outstanding: Int, torrentOutstanding: Int) -> Int {
        let wanted = wanted(depth: depth, outstanding: outstanding, torrentOutstanding: torrentOutstanding)
        guard wanted > 0, outstanding == 0 || wanted >= max(1, min(depth / 8, 16)) else { return 0 }
        return wanted
    }

    public static func depth(downloadRate: Double, isSnubbed: Bool) -> Int {
        if isSnubbed { return snubbedDepth }
        let blocks = Int(downloadRate * coverage / Double(TorrentGeometry.blockLength))
        return min(maximumDepth, max(minimumDepth, blocks))
    }
}
