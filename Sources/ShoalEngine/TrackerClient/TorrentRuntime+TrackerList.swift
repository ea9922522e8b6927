import Foundation
import ShoalCore

/// A torrent's trackers as the user edits them (the Trackers tab, `torrent-set`'s `trackerList`):
/// the announcer reads the tiers afresh after a change, and a tracker kept keeps its state.
extension TorrentRuntime {
    /// The magnet phase's trackers (states, ids, the order they taught) for the torrent's:
    /// the list does not go back to "waiting" when the metadata arrives.
    func carryOver(_ earlier: TrackerTiers) {
        var carried = earlier
        _ = carried.set(trackers.tiers)
        trackers = carried
    }

    func setTrackers(_ tiers: [[String]]) {
        guard trackers.set(tiers) else { return }
        logger.info("trackers changed", metadata: ["tiers": "\(tiers.map { $0.joined(separator: " ") }.joined(separator: " | "))"])
        // A tracker just added should not wait a whole interval to be asked.
        reannounce()
    }
}

/// Checks and tidies tiers of tracker URLs from a user: http, https and udp only, each once,
/// no empty tiers.
public enum TrackerListEdit {
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public static func validated(_ tiers: [[String]]) throws(Invalid) -> [[String]] {
        var seen: Set<String> = []
        var out: [[String]] = []
        for tier in tiers {
            var kept: [String] = []
            for raw in tier {
                let url = raw.trimmingCharacters(in: .whitespaces)
                guard !url.isEmpty else { continue }
                let lower = url.lowercased()
                guard lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("udp://"), url.count > 8,
                      !url.contains(where: { $0 == " " || $0.isNewline })
                else { throw Invalid(description: "not a tracker URL (http://, https:// or udp://): \(url)") }
                if seen.insert(url).inserted { kept.append(url) }
            }
            if !kept.isEmpty { out.append(kept) }
        }
        return out
    }

    /// Trackers listed flat with their tiers (as snapshots and `trackerStats` number them) back
    /// into tiers, in order, those without a URL (removed) left out.
    public static func tiers(_ flat: [(tier: Int, url: String?)]) -> [[String]] {
        var tiers: [[String]] = []
        var last: Int?
        for (tier, url) in flat {
            guard let url else { continue }
            if tier != last { tiers.append([]) }
            tiers[tiers.count - 1].append(url)
            last = tier
        }
        return tiers
    }

    /// Transmission's `trackerList`: one URL a line, a blank line between tiers.
    public static func parse(list text: String) -> [[String]] {
        var tiers: [[String]] = [[]]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let url = line.trimmingCharacters(in: .whitespaces)
            if url.isEmpty {
                if !(tiers.last?.isEmpty ?? true) { tiers.append([]) }
            } else {
                tiers[tiers.count - 1].append(url)
            }
        }
        return tiers.filter { !$0.isEmpty }
    }
}
