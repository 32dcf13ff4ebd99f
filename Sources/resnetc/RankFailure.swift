import Foundation
import ResNetRuntime

/// Under mpirun, a failing rank takes the whole job down: it says why (rank 0 also when another
/// rank failed; a rank whose failure rank 0 reports stays quiet), then MPI_Abort ends every rank.
/// `checkpoint` is the run's checkpoint, named in the message when one exists. Alone, nothing.
func stopEveryRank(after error: Error, checkpoint: String?) {
    guard let group = try? ProcessGroup.current(), group.isDistributed else { return }
    if group.isLeader || !(error is ProcessGroup.PeerFailure) {
        let message = (error as? RuntimeError)?.message ?? "\(error)"
        let resumable = checkpoint.map { FileManager.default.fileExists(atPath: $0) ? "; the same command with --resume continues from \($0)" : "" } ?? ""
        FileHandle.standardError.write(Data("resnetc: error: rank \(group.rank) of \(group.size): \(message)\nresnetc: the job stops on every rank\(resumable)\n".utf8))
    } else {
        sleep(5)  // rank 0 is saying why and ending the job; abort only if it has not within 5 s
    }
    group.abort(code: 1)
}
