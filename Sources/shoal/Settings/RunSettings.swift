import Foundation
import ShoalCore
import ShoalEngine

/// Every setting of `shoal run`, declared once: its config key (the flag is the key with
/// dashes), its default, its rule and its help. `RunCommand`'s flags take their help from here,
/// `ConfigFile` reads the keys listed here, `shoal config --print` prints them, and a test holds
/// the README's tables to this list.
enum RunSettings {
    typealias Defaults = EngineConfig.Defaults

    static let downloadDir = Setting<String>(key: "download_dir", fallback: nil, note: "default: the current directory",
                                             help: "Where downloads go (default: the current directory).", isPath: true)
    static let port = Setting<Int>(key: "port", fallback: 6881, note: "default",
                                   help: "Port to listen on for peers (default 6881); the next free one is used if it is taken.",
                                   rule: { (0...65535).contains($0) ? nil : "must be 0-65535" })
    static let bind = Setting<[String]>(key: "bind", fallback: ["0.0.0.0", "::"], note: "default: every IPv4 and IPv6 address",
                                        help: "Address to listen on for peers, IPv4 or IPv6 (repeatable; default 0.0.0.0 and ::, both families).")
    static let upKib = Setting<Int>(key: "up_kib", fallback: 0, note: "default: unlimited",
                                    help: "Upload limit in KiB/s (0 = unlimited).", rule: notNegative)
    static let downKib = Setting<Int>(key: "down_kib", fallback: 0, note: "default: unlimited",
                                      help: "Download limit in KiB/s (0 = unlimited).", rule: notNegative)
    static let altUpKib = Setting<Int>(key: "alt_up_kib", fallback: nil, note: "default: as last set, else 50 kB/s",
                                       help: "Alternative (turtle) upload limit in KiB/s, switched on with t, a remote or alt_speed_schedule.",
                                       rule: notNegative)
    static let altDownKib = Setting<Int>(key: "alt_down_kib", fallback: nil, note: "default: as last set, else 50 kB/s",
                                         help: "Alternative (turtle) download limit in KiB/s.", rule: notNegative)
    static let altSpeedSchedule = Setting<String>(
        key: "alt_speed_schedule", fallback: nil, note: "default: no schedule",
        help: "When the alternative limits switch themselves on, local time: DAYS HH:MM-HH:MM, e.g. \"mon-fri 09:00-17:00\" or \"daily 23:00-07:00\".",
        rule: { text in
            do throws(AltSpeedSchedule.Invalid) {
                _ = try AltSpeedSchedule(parsing: text)
                return nil
            } catch {
                return error.description
            }
        })
    static let stateDir = Setting<String>(key: "state_dir", fallback: nil, note: "default: $XDG_DATA_HOME/shoal",
                                          help: "Directory for this instance's state (default: $XDG_DATA_HOME/shoal).", isPath: true)
    static let watch = Setting<[String]>(key: "watch", fallback: nil, note: "default: none",
                                         help: "A directory to watch for .torrent files to add (repeatable).", isPath: true)
    static let watchAction = Setting<String>(key: "watch_action", fallback: "rename", note: "default",
                                             help: "What to do with a watched file once added: rename (to NAME.torrent.added), delete or keep.",
                                             rule: { WatchFolder.AfterAdding(rawValue: $0) == nil ? "must be rename, delete or keep" : nil })
    static let theme = Setting<String>(key: "theme", fallback: "default", note: "default",
                                       help: "Colour theme: a name (default, light, mono, or a file in $XDG_CONFIG_HOME/shoal/themes or ./Themes) or a path.")
    static let maxPeers = Setting<Int>(key: "max_peers", fallback: Defaults.maxPeersPerTorrent, note: "default: per torrent",
                                       help: "Connections per torrent (default \(Defaults.maxPeersPerTorrent)).", rule: atLeastOne)
    static let maxPeersTotal = Setting<Int>(key: "max_peers_total", fallback: Defaults.maxPeersTotal, note: "default: all torrents together",
                                            help: "Connections across all torrents (default \(Defaults.maxPeersTotal)).", rule: atLeastOne)
    static let seedRatio = Setting<Double>(key: "seed_ratio", fallback: nil, note: "default: no ratio goal",
                                           help: "Stop seeding a torrent once it has uploaded this many times its size (e.g. 2.0).",
                                           rule: { $0 > 0 ? nil : "must be a number above 0" })
    static let seedMinutes = Setting<Int>(key: "seed_minutes", fallback: nil, note: "default: no time goal",
                                          help: "Stop seeding a torrent this many minutes after it completed.", rule: atLeastOne)
    static let queueDownloads = Setting<Int>(key: "queue_downloads", fallback: 0, note: "default: no limit",
                                             help: "At most this many torrents downloading at once; the rest wait, queued (0 = no limit).",
                                             rule: notNegative)
    static let queueSeeds = Setting<Int>(key: "queue_seeds", fallback: 0, note: "default: no limit",
                                         help: "At most this many torrents seeding at once (0 = no limit).", rule: notNegative)
    static let queueStalledMinutes = Setting<Int>(
        key: "queue_stalled_minutes", fallback: 30, note: "default",
        help: "A download that received nothing for this many minutes gives up its queue slot (default 30).", rule: atLeastOne)
    static let superSeed = Setting<Bool>(key: "super_seed", fallback: false, note: "default",
                                         help: "Super-seed (BEP 16) torrents that are complete when they start: show each peer one piece at a time.")
    static let dht = Setting<Bool>(key: "dht", fallback: false, note: "default",
                                   help: "Run a Mainline DHT node (BEP 5) on the peer port (UDP), for trackerless torrents and magnets (default off).")
    static let dhtBootstrap = Setting<[String]>(key: "dht_bootstrap", fallback: nil, note: "default: no node is contacted",
                                                help: "A DHT node to join through, as HOST:PORT (repeatable), e.g. router.bittorrent.com:6881; implies --dht.",
                                                rule: { $0.allSatisfy { $0.contains(":") } ? nil : "must be a list of \"HOST:PORT\"" })
    static let utp = Setting<Bool>(key: "utp", fallback: false, note: "default",
                                   help: "uTP (BEP 29) on the peer port (UDP): take peers' uTP connections and dial uTP first, TCP when it gets no answer (default off).")
    static let pex = Setting<Bool>(key: "pex", fallback: true, note: "default", help: "Peer exchange (BEP 11) for public torrents (default on).")
    static let minAnnounceInterval = Setting<Int>(
        key: "min_announce_interval", fallback: Defaults.minimumAnnounceIntervalSeconds, note: "default: seconds between announces at least",
        help: "Shortest wait between two announces to a tracker, in seconds, whatever it asks (default \(Defaults.minimumAnnounceIntervalSeconds)); a tracker's longer interval or min interval wins.",
        rule: atLeastOne)
    static let trackerRequestsPerSecond = Setting<Int>(
        key: "tracker_requests_per_second", fallback: Defaults.trackerRequestsPerSecond, note: "default: announces and scrapes, all torrents together",
        help: "Announces and scrapes sent per second across all torrents, the rest queued in order (default \(Defaults.trackerRequestsPerSecond); 0 = no limit): thousands of torrents starting at once do not storm a tracker.",
        rule: notNegative)
    static let encryption = Setting<String>(
        key: "encryption", fallback: EncryptionPolicy.prefer.rawValue, note: "default",
        help: "Protocol encryption (MSE/PE): prefer (default: dial encrypted, fall back to plaintext once, accept both), require (encrypted only, both ways), allow (dial plaintext, accept both) or disable (plaintext only).",
        rule: { EncryptionPolicy(rawValue: $0) == nil ? "must be prefer, require, allow or disable" : nil })
    static let logLevel = Setting<String>(key: "log_level", fallback: "info", note: "default",
                                          help: "What the log keeps: trace, debug, info (default), notice, warning, error or critical. With --headless, debug and trace also go to stderr.",
                                          rule: { LogSetup.level($0) == nil ? "must be one of \(LogSetup.levels.joined(separator: ", "))" : nil })
    static let logFile = Setting<String>(key: "log_file", fallback: nil, note: "default: STATE_DIR/shoal.log, or $XDG_STATE_HOME/shoal/shoal.log",
                                         help: "Log file, rotated at 10 MiB (default: STATE_DIR/shoal.log with --state-dir, else $XDG_STATE_HOME/shoal/shoal.log; '' for none).",
                                         isPath: true)

    static let rpc = Setting<Bool>(key: "rpc", fallback: false, note: "default",
                                   help: "Serve Transmission's RPC, for transmission-remote, stig, Sonarr… and `shoal attach` (default off).")
    static let rpcBind = Setting<[String]>(key: "rpc_bind", fallback: ["127.0.0.1"], note: "default: loopback only",
                                           help: "Address the RPC listens on (repeatable; default 127.0.0.1). Any other than loopback needs rpc_username and rpc_password.")
    static let rpcPort = Setting<Int>(key: "rpc_port", fallback: 9091, note: "default",
                                      help: "Port of the RPC (default 9091, Transmission's).",
                                      rule: { (0...65535).contains($0) ? nil : "must be 0-65535" })
    static let rpcUsername = Setting<String>(key: "rpc_username", fallback: nil, note: "default: no authentication",
                                             help: "User name the RPC asks for (with rpc_password).")
    static let rpcPassword = Setting<String>(
        key: "rpc_password", fallback: nil, note: "default: no authentication",
        help: "The RPC password's hash, as `shoal config --hash-password` prints it (config file only; never the password itself).",
        rule: { RPCAccess.Credentials.isHash($0) ? nil : "must be a hash from `shoal config --hash-password`, not the password itself" })
    static let rpcHostWhitelist = Setting<[String]>(key: "rpc_host_whitelist", fallback: ["localhost"], note: "default",
                                                    help: "Host names (besides IP addresses) the RPC answers to without a password, against DNS rebinding.")

    /// In the order `shoal config --print` and the README list them.
    static let all: [any AnySetting] = [
        downloadDir, port, bind, upKib, downKib, altUpKib, altDownKib, altSpeedSchedule, stateDir, watch, watchAction, theme, maxPeers, maxPeersTotal, seedRatio, seedMinutes,
        queueDownloads, queueSeeds, queueStalledMinutes, superSeed, dht, dhtBootstrap, pex, utp, minAnnounceInterval, trackerRequestsPerSecond, encryption, logLevel, logFile, rpc, rpcBind, rpcPort, rpcUsername,
        rpcPassword, rpcHostWhitelist,
    ]

    static let notNegative: @Sendable (Int) -> String? = { $0 >= 0 ? nil : "must be 0 or more" }
    static let atLeastOne: @Sendable (Int) -> String? = { $0 >= 1 ? nil : "must be at least 1" }
}
