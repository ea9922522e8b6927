import NIOPosix
import ShoalCore

/// Checks which pieces are already on disk with the right hash (on add, and on `verify`).
public enum PieceVerifier {
    /// Reads and hashes every piece whose files exist, on the pool's threads, in parallel runs.
    /// Pieces set in `known` (resume data vouches for their files) are not read: present when
    /// set in `trusted`, missing otherwise.
    public static func verifyAll(storage: FileStorage, info: InfoDictionary, pool: NIOThreadPool, trusted: Bitfield? = nil,
                                 known: Bitfield? = nil, progress: @escaping @Sendable (Int) -> Void = { _ in }) async -> Bitfield {
        let geometry = info.geometry
        // Skip pieces none of whose (non-padding) files exist: nothing to read.
        let present = (0..<geometry.fileLengths.count).map { storage.fileExists($0) || info.files[$0].isVirtual || info.files[$0].length == 0 }
        let workers = 2
        let runs = (0..<workers).map { worker in
            (geometry.pieceCount * worker / workers)..<(geometry.pieceCount * (worker + 1) / workers)
        }
        let results = await withTaskGroup(of: [Int].self) { group in
            for run in runs {
                group.addTask {
                    (try? await pool.runIfActive {
                        var good: [Int] = []
                        for value in run {
                            if trusted?[value] == true {
                                good.append(value)
                                continue
                            }
                            if known?[value] == true { continue }
                            let piece = geometry.piece(value)!
                            let spans = geometry.fileSpans(of: piece)
                            guard spans.allSatisfy({ present[$0.file] }) else { continue }
                            if let data = try? storage.read(piece: piece), info.pieceMatches(data, piece) {
                                good.append(value)
                            }
                            progress(value)
                        }
                        return good
                    }) ?? []
                }
            }
            var all: [Int] = []
            for await good in group { all += good }
            return all
        }
        var have = Bitfield(count: geometry.pieceCount)
        for index in results { have.set(index) }
        return have
    }
}
