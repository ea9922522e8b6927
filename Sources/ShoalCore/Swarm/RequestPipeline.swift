/// How many block requests to keep outstanding with one peer: enough to cover about two seconds
/// at the rate it is delivering, so a fast peer is never idle waiting for our next request and a
/// slow one does not hoard blocks others could fetch.
public enum RequestPipeline {
    public static let minimumDepth = 4
    public static let maximumDepth = 500
    public static let snubbedDepth = 1
    public static let coverage = 2.0

    public static func depth(downloadRate: Double, isSnubbed: Bool) -> Int {
        if isSnubbed { return snubbedDepth }
        let blocks = Int(downloadRate * coverage / Double(TorrentGeometry.blockLength))
        return min(maximumDepth, max(minimumDepth, blocks))
    }
}
