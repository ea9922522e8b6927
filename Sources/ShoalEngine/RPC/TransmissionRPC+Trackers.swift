import ShoalCore

/// `torrent-set`'s tracker edits, in Transmission's words: `trackerList` (every tier, one URL a
/// line, a blank line between tiers) replaces them all; `trackerAdd` (URLs, each a new tier),
/// `trackerRemove` (ids from `trackerStats`) and `trackerReplace` (id, URL pairs) change some.
extension TransmissionRPC {
    static let trackerKeys = ["trackerList", "trackerAdd", "trackerRemove", "trackerReplace"]

    /// The tiers after the edits in `arguments`; nil when it asks for none.
    static func editedTrackers(_ arguments: [String: JSONValue], current: [TrackerSnapshot]) throws -> [[String]]? {
        guard trackerKeys.contains(where: { arguments[$0] != nil }) else { return nil }
        // Ids are positions in the flat list `trackerStats` numbers.
        var flat: [(tier: Int, url: String?)] = current.map { ($0.tier, $0.url) }
        if let list = arguments["trackerList"] {
            guard let text = list.string else { throw MethodError("trackerList: expected a string") }
            flat = TrackerListEdit.parse(list: text).enumerated().flatMap { tier, urls in urls.map { (tier, Optional($0)) } }
        }
        if let replace = arguments["trackerReplace"] {
            guard let items = replace.array, items.count % 2 == 0 else { throw MethodError("trackerReplace: expected [id, url, …] pairs") }
            for pair in stride(from: 0, to: items.count, by: 2) {
                guard let id = items[pair].int, flat.indices.contains(id), let url = items[pair + 1].string else {
                    throw MethodError("trackerReplace: no tracker \(items[pair])")
                }
                flat[id].url = url
            }
        }
        if let remove = arguments["trackerRemove"] {
            guard let ids = remove.array?.compactMap(\.int) else { throw MethodError("trackerRemove: expected a list of ids") }
            for id in ids {
                guard flat.indices.contains(id) else { throw MethodError("trackerRemove: no tracker \(id)") }
                flat[id].url = nil
            }
        }
        var tiers = TrackerListEdit.tiers(flat)
        if let add = arguments["trackerAdd"] {
            guard let urls = add.array?.compactMap(\.string) else { throw MethodError("trackerAdd: expected a list of URLs") }
            tiers += urls.map { [$0] }
        }
        return tiers
    }
}
