import ShoalCore
import ShoalEngine

/// Short human forms for the columns.
public enum Format {
    static func size(_ bytes: Int64) -> String { ByteCount.format(bytes) }

    static func rate(_ bytesPerSecond: Double) -> String {
        bytesPerSecond < 1 ? "-" : ByteCount.format(Int64(bytesPerSecond)) + "/s"
    }

    public static func eta(_ seconds: Int?) -> String {
        guard let seconds else { return "-" }
        if seconds >= 86_400 { return "\(seconds / 86_400)d \((seconds % 86_400) / 3600)h" }
        if seconds >= 3600 { return "\(seconds / 3600)h \((seconds % 3600) / 60)m" }
        if seconds >= 60 { return "\(seconds / 60)m \(seconds % 60)s" }
        return "\(seconds)s"
    }

    static func ratio(_ value: Double) -> String {
        value.isInfinite ? "∞" : ByteCount.fixed(value, digits: 2)
    }

    static func percent(_ fraction: Double) -> String { ByteCount.fixed(fraction * 100, digits: 1) + "%" }

    /// When something happened ("12s ago"; under a second, "just now").
    static func ago(_ instant: ContinuousClock.Instant?, now: ContinuousClock.Instant) -> String {
        guard let instant else { return "-" }
        let seconds = Int((now - instant).components.seconds)
        return seconds > 0 ? eta(seconds) + " ago" : "just now"
    }

    /// When something is due ("in 4m 10s"); once due, "now" (an announce under way, or waiting
    /// for the tracker's minimum interval), never a time in the past.
    static func until(_ instant: ContinuousClock.Instant?, now: ContinuousClock.Instant) -> String {
        guard let instant else { return "-" }
        let seconds = Int((instant - now).components.seconds)
        return seconds > 0 ? "in " + eta(seconds) : "now"
    }

    static func activity(_ torrent: TorrentSnapshot) -> (String, StyleSlot) {
        // A move stops the torrent for its length: what it is doing is the move.
        if let move = torrent.move { return ("moving \(percent(move.fraction))", .checking) }
        switch torrent.activity {
        case .checking: return ("checking", .checking)
        case .downloading: return (torrent.details.sequential ? "sequential" : "downloading", .downloading)
        case .seeding: return ("seeding", .seeding)
        case .paused: return ("paused", .paused)
        case .finished: return ("finished", .finished)
        case .queued: return ("queued", .paused)
        case .metadata: return ("metadata…", .checking)
        case .error: return ("error", .error)
        }
    }
}
