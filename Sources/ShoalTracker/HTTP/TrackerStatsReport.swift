import ShoalCore

/// `GET /stats`: the tracker's counters as text or JSON; with `peers=1`, each client's
/// announces per torrent (from the ledger), for checking that nobody announces too often.
enum TrackerStatsReport {
    static func text(_ core: TrackerCore) -> String {
        let stats = core.stats
        return "torrents: \(stats.torrents)\npeers: \(stats.peers)\nannounces: \(stats.announces)\n"
            + "announces per second: \(ByteCount.fixed(stats.announcesPerSecond, digits: 3))\n"
            + "throttled (sooner than min interval): \(stats.throttled)\n"
            + "scrapes: \(stats.scrapes)\n"
            + "busiest second: \(stats.busiestSecond) requests (announces and scrapes)\n"
    }

    static func json(_ core: TrackerCore, clients: Bool) -> String {
        let stats = core.stats
        var fields = [
            "\"torrents\":\(stats.torrents)", "\"peers\":\(stats.peers)", "\"announces\":\(stats.announces)",
            "\"announces_per_second\":\(ByteCount.fixed(stats.announcesPerSecond, digits: 3))",
            "\"throttled\":\(stats.throttled)", "\"interval\":\(stats.interval)",
            "\"scrapes\":\(stats.scrapes)", "\"busiest_second\":\(stats.busiestSecond)",
            "\"uptime\":\(stats.uptime.components.seconds)",
        ]
        if clients {
            let rows = core.ledger.map { row in
                // Peer ids are 20 raw bytes: hex, so the JSON stays valid whatever they hold.
                "{\"info_hash\":\"\(row.key.infoHash.hex)\",\"peer_id\":\"\(Hex.encode(row.key.peerID.bytes))\","
                    + "\"regular\":\(row.entry.regular),\"started\":\(row.entry.started),\"completed\":\(row.entry.completed),"
                    + "\"stopped\":\(row.entry.stopped),\"too_soon\":\(row.entry.tooSoon),"
                    + "\"first\":\(ByteCount.fixed(row.first, digits: 3)),\"last\":\(ByteCount.fixed(row.last, digits: 3))}"
            }
            fields.append("\"clients\":[\(rows.joined(separator: ","))]")
        }
        return "{" + fields.joined(separator: ",") + "}\n"
    }
}
