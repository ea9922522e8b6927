import Foundation
import ShoalCore
import Synchronization

/// What a torrent knows of its files between runs and while it runs: resume data saved and
/// read back, the progress shown while it is not running, and the check that the files holding
/// verified pieces are still there.
extension TorrentRuntime {
    /// What resume data vouches for, read now (files are looked at, not read).
    func loadVouched() -> ResumeData.Vouched? {
        store?.loadResume(metainfo.infoHash)?.vouched(geometry: metainfo.info.geometry, infoHash: metainfo.infoHash,
                                                      paths: storage.diskPaths, padding: metainfo.info.files.map(\.isVirtual))
    }

    /// Before it runs (paused, or not started yet), a torrent shows what its resume data says
    /// it has, instead of nothing. `resume`: the record already read (a restore reads them
    /// ahead, two at a time). With `forRun`, what it vouches for is also kept for the check at
    /// the start of the run that follows, so a restore reads and looks at each torrent once.
    public func loadRestingProgress(resume: ResumeData?? = nil, forRun: Bool = false) {
        guard picker == nil else { return }
        let record = resume ?? store?.loadResume(metainfo.infoHash)
        let vouched = record.flatMap {
            $0.vouched(geometry: metainfo.info.geometry, infoHash: metainfo.infoHash, paths: storage.diskPaths,
                       padding: metainfo.info.files.map(\.isVirtual))
        }
        restingHave = vouched?.have
        vouchedForRun = forRun ? vouched.map { ($0, .now) } : nil
    }

    /// What `loadRestingProgress` found for this run, if it was just now (files' times older
    /// than a few seconds are looked at again).
    func takeVouchedForRun() -> ResumeData.Vouched?? {
        defer { vouchedForRun = nil }
        guard let (vouched, at) = vouchedForRun, ContinuousClock.now - at < Self.vouchedKeptFor else { return nil }
        return .some(vouched)
    }

    static let vouchedKeptFor: Duration = .seconds(30)

    /// What a stopped torrent had, handed to the runtime that replaces it.
    func setRestingProgress(_ have: Bitfield?) {
        if picker == nil { restingHave = have }
    }

    var currentHave: Bitfield? { picker?.have ?? restingHave }

    /// Files that still hold verified pieces and are no longer the files written (deleted or
    /// replaced under us): their pieces are missing again and the torrent stops with the reason.
    /// Checked on every resume save, while seeding too, and before completion is announced.
    /// Returns false when the torrent failed.
    @discardableResult
    func checkFilesInPlace() -> Bool {
        guard let have = picker?.have, activity != .error else { return activity != .error }
        let geometry = metainfo.info.geometry
        let holding = (0..<geometry.fileLengths.count).filter { file in geometry.pieces(ofFile: file).contains { have[$0] } }
        guard let problem = storage.vanished(files: holding) else { return true }
        let lost = holding.filter { storage.vanished(files: [$0]) != nil }.flatMap { geometry.pieces(ofFile: $0) }
        picker?.piecesLost(lost)
        saveResume(force: true)
        fail("disk error: \(problem)")
        return false
    }

    /// Queues resume data for the verified pieces, after flushing them to disk, so the record
    /// never claims more than the disk holds. Skipped while nothing new was verified, unless
    /// `force` (the files' times are recorded too). The fsyncs run on the state directory's
    /// write queue, never on this actor (`stop()` waits for them).
    func saveResume(force: Bool = false) {
        guard let store, let have = picker?.have else { return }
        lastResumeSave = .now
        if let failure = resumeSaveFailure.take() {
            errorMessage = "cannot save resume data: \(failure)"
            savedHave = nil
        }
        guard force || have != savedHave else { return }
        savedHave = have
        let storage = storage, logger = logger, failure = resumeSaveFailure
        store.submitResume(ResumeData.make(infoHash: metainfo.infoHash, have: have, paths: storage.diskPaths), for: metainfo.infoHash,
                           flush: { storage.sync() },
                           failed: { error in
                               logger.error("cannot save resume data: \(error)")
                               failure.record("\(error)")
                           })
    }
}

/// A failure reported by the write queue's thread, for the runtime to pick up.
final class ResumeSaveFailure: Sendable {
    private let reason = Mutex<String?>(nil)
    func record(_ text: String) { reason.withLock { $0 = text } }
    func take() -> String? { reason.withLock { value in defer { value = nil }; return value } }
}
