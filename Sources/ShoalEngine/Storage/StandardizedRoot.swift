import Foundation
import Synchronization

/// A download directory as `NSString.standardizingPath` makes it (links resolved, `.`/`..`
/// gone), remembered for a few seconds: restoring 100,000 torrents into one directory resolved
/// the same links 100,000 times, a tenth of the start. A link the user changes is seen again
/// once the few seconds are over.
enum StandardizedRoot {
    private struct Kept {
        let path: String
        let at: ContinuousClock.Instant
    }

    private static let kept = Mutex<[String: Kept]>([:])
    static let keptFor: Duration = .seconds(5)
    private static let most = 64

    static func of(_ directory: String, now: ContinuousClock.Instant = .now) -> String {
        if let hit = kept.withLock({ $0[directory] }), now - hit.at < keptFor { return hit.path }
        let path = (directory as NSString).standardizingPath
        kept.withLock { kept in
            if kept.count >= most { kept.removeAll() }
            kept[directory] = Kept(path: path, at: now)
        }
        return path
    }
}
