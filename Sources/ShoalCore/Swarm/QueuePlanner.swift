/// Queueing, as Transmission and qBittorrent do it: at most `downloads` torrents downloading and
/// `seeds` seeding at once (0 = no limit), taken in queue order from those the user wants to
/// run; the rest wait ("queued"). A stalled download (nothing received for a while) keeps
/// running but gives up its slot, so one stuck torrent does not hold the queue. Pure.
public enum QueuePlanner {
    public struct Candidate: Sendable, Equatable {
        public var id: Int
        /// Has everything wanted: competes for a seeding slot.
        public var complete: Bool
        public var running: Bool
        /// Running, downloading, and nothing received for the stalled time.
        public var stalled: Bool

        public init(id: Int, complete: Bool, running: Bool, stalled: Bool = false) {
            self.id = id
            self.complete = complete
            self.running = running
            self.stalled = stalled
        }
    }

    /// The ids that should run; `candidates` in queue order, every one wanting to run.
    public static func running(_ candidates: [Candidate], downloads: Int, seeds: Int) -> Set<Int> {
        var out: Set<Int> = []
        var downloading = 0, seeding = 0
        // Stalled runners first: they keep running and take no slot.
        for candidate in candidates where candidate.running && candidate.stalled && !candidate.complete { out.insert(candidate.id) }
        for candidate in candidates where !out.contains(candidate.id) {
            if candidate.complete {
                guard seeds == 0 || seeding < seeds else { continue }
                seeding += 1
            } else {
                guard downloads == 0 || downloading < downloads else { continue }
                downloading += 1
            }
            out.insert(candidate.id)
        }
        return out
    }
}
