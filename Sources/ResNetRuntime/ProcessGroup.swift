import Foundation
import MPIBridge

/// The processes of a data-parallel run. Started by Open MPI's mpirun (which sets
/// OMPI_COMM_WORLD_SIZE), resnetc loads libmpi at run time and every rank trains on its shard of
/// each global batch; otherwise the group is this process alone and MPI is never touched, so
/// resnetc without Open MPI works as before. MPI is started once per process.
public final class ProcessGroup: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    /// Rank 0 writes metrics, checkpoints and weights, and prints.
    public var isLeader: Bool { rank == 0 }
    public var isDistributed: Bool { size > 1 }

    private init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    /// This process alone.
    public static let single = ProcessGroup(rank: 0, size: 1)

    nonisolated(unsafe) private static var started: ProcessGroup?

    /// The group this process belongs to: under mpirun, MPI's world (started on first use).
    public static func current(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProcessGroup {
        if let started { return started }
        guard let text = environment["OMPI_COMM_WORLD_SIZE"], let size = Int(text), size > 1 else { return .single }
        var rank: Int32 = 0, worldSize: Int32 = 0
        var message = [CChar](repeating: 0, count: 512)
        guard rc_mpi_start(&rank, &worldSize, &message, message.count) == 0 else {
            throw RuntimeError("started by mpirun (\(size) ranks), but Open MPI cannot be used: \(ImageFile.text(message))")
        }
        let group = ProcessGroup(rank: Int(rank), size: Int(worldSize))
        started = group
        return group
    }

    /// The hook sync batch norm calls inside the training step (nil alone).
    public var averageHook: CompiledTrainer.AverageFunction? { isDistributed ? rc_mpi_average_doubles : nil }

    /// Replaces `values` by their mean over the ranks.
    public func average(_ values: UnsafeMutableBufferPointer<Float>) throws {
        guard isDistributed, !values.isEmpty else { return }
        guard rc_mpi_sum_floats(values.baseAddress, Int32(clamping: values.count)) == 0 else { throw RuntimeError("MPI_Allreduce failed") }
        let scale = 1 / Float(size)
        for i in values.indices { values[i] *= scale }
    }

    /// Sums `values` over the ranks, in place.
    public func sum(_ values: inout [Double]) throws {
        guard isDistributed, !values.isEmpty else { return }
        let status = values.withUnsafeMutableBufferPointer { rc_mpi_sum_doubles($0.baseAddress, Int32(clamping: $0.count)) }
        guard status == 0 else { throw RuntimeError("MPI_Allreduce failed") }
    }

    /// Throws unless every rank holds the same `values` (compared by two checksums' extremes).
    public func requireIdentical(_ values: UnsafeMutableBufferPointer<Float>, what: String) throws {
        guard isDistributed else { return }
        var plain = 0.0, weighted = 0.0
        for (i, value) in values.enumerated() {
            plain += Double(value)
            weighted += Double(value) * Double(i % 1021 + 1)
        }
        var highest = [plain, weighted], lowest = highest
        let status = highest.withUnsafeMutableBufferPointer { high in
            lowest.withUnsafeMutableBufferPointer { low in
                rc_mpi_max_doubles(high.baseAddress, 2) | rc_mpi_min_doubles(low.baseAddress, 2)
            }
        }
        guard status == 0 else { throw RuntimeError("MPI_Allreduce failed") }
        guard highest == lowest else {
            throw RuntimeError("the ranks' \(what) differ (checksums \(lowest[0])…\(highest[0])): the data-parallel run has diverged; "
                               + "every rank must run the same resnetc, spec and data")
        }
    }

    /// What a rank throws from `agree` when another rank failed (which reports its own error).
    public struct PeerFailure: Error, CustomStringConvertible {
        public let failed: Int, size: Int
        public var description: String { "\(failed) of the \(size) ranks stopped with an error (rank 0 or that rank says why)" }
    }

    /// Runs `body` on every rank and stops them all if it fails on any. Rank 0 rethrows its
    /// error; another failing rank rethrows its own unless rank 0 failed too (then, most likely
    /// the same mistake, rank 0 alone says it); the rest throw PeerFailure. Every rank must call
    /// it at the same point.
    public func agree<T>(_ body: () throws -> T) throws -> T {
        let outcome: Result<T, Error>
        do { outcome = .success(try body()) } catch { outcome = .failure(error) }
        guard isDistributed else { return try outcome.get() }
        var failures: [Double] = [0, 0]  // failing ranks, and whether rank 0 is one
        if case .failure = outcome { failures = [1, isLeader ? 1 : 0] }
        try sum(&failures)
        if case .failure(let error) = outcome, isLeader || failures[1] == 0 { throw error }
        guard failures[0] == 0 else { throw PeerFailure(failed: Int(failures[0]), size: size) }
        return try outcome.get()
    }

    /// Ends every rank of the job, as a failing rank must so that mpirun stops.
    public func abort(code: Int32) { if isDistributed { rc_mpi_abort(code) } }

    /// MPI_Finalize, at a normal end (mpirun treats a rank that exits without it as failed).
    public func finish() { if isDistributed { rc_mpi_finish() } }
}
