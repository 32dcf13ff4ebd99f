import Foundation
import ResNetDiagnostics

/// The output directory of `resnetc run`, held for the life of the run: an exclusive lock so
/// two processes never train into one directory, and the rule that a directory already holding
/// a run is continued (`--resume`), started over (`--restart`, which removes only the files
/// resnetc writes there) or refused — never silently overwritten or appended to.
public final class RunDirectory {
    /// What to do with a directory that may already hold a run.
    public enum Mode: Sendable {
        /// Start a run; refuse if one is there.
        case start
        /// Continue the run whose checkpoint is there; refuse if there is none.
        case resume
        /// Remove resnetc's files of an earlier run (if any), then start.
        case restart
    }

    public static let metricsName = "metrics.csv"
    public static let checkpointName = "checkpoint.safetensors"
    public static let weightsName = "weights.safetensors"
    public static let lockName = ".resnetc.lock"
    /// The files a run writes; `--restart` removes these and nothing else.
    public static let runFiles = [metricsName, checkpointName, weightsName]

    public let path: String
    private let lockDescriptor: Int32

    public var metricsPath: String { path + "/" + Self.metricsName }
    public var checkpointPath: String { path + "/" + Self.checkpointName }
    public var weightsPath: String { path + "/" + Self.weightsName }

    /// Creates the directory if needed, takes its lock and applies `mode`.
    public init(_ path: String, mode: Mode) throws {
        self.path = path
        if mode == .resume, !FileManager.default.fileExists(atPath: path) {
            throw RuntimeError("nothing to resume in '\(path)': it does not exist; run without --resume to start a run there")
        }
        try AtomicFile.createDirectory(path)
        lockDescriptor = try Self.lock(path)
        do {
            let present = Self.runFiles.filter { FileManager.default.fileExists(atPath: path + "/" + $0) }
            switch mode {
            case .start where !present.isEmpty:
                throw RuntimeError("""
                    '\(path)' already holds a run (\(present.joined(separator: ", "))); continue it with --resume, \
                    start it over with --restart (removes only those files), or choose another --out
                    """)
            case .resume where !present.contains(Self.checkpointName):
                throw RuntimeError("nothing to resume in '\(path)': it has no \(Self.checkpointName); run without --resume to start a run there")
            case .restart:
                if let foreign = present.first(where: { !Self.wroteByResnetc(path + "/" + $0) }) {
                    throw RuntimeError("--restart leaves '\(path)/\(foreign)' alone: resnetc did not write it; move it away or choose another --out")
                }
                for name in present where unlink(path + "/" + name) != 0 {
                    throw RuntimeError("--restart cannot remove '\(path)/\(name)': \(AtomicFile.errnoText())")
                }
            default:
                break
            }
        } catch {
            close(lockDescriptor)
            throw error
        }
    }

    deinit { close(lockDescriptor) }

    /// Whether a run file is resnetc's own, by its content: the metrics header, or the format a
    /// checkpoint or weights file carries in its metadata. A user's file of the same name is not.
    private static func wroteByResnetc(_ file: String) -> Bool {
        guard let data = try? FileBytes.read(file, what: "run file") else { return false }
        if file.hasSuffix(metricsName) { return data.starts(with: Data((MetricsLog.header + "\n").utf8)) }
        let format = (try? SafeTensors.metadata(data, file: file))?["format"]
        return format == Checkpoint.format || format == ParameterValues.weightsFormat
    }

    /// An exclusive, non-blocking lock on the directory's lock file, released when the process
    /// ends however it ends (the kernel drops flock locks with the descriptor).
    private static func lock(_ path: String) throws -> Int32 {
        let lockPath = path + "/" + lockName
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw RuntimeError("cannot create the lock file '\(lockPath)': \(AtomicFile.errnoText())") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let reason = AtomicFile.errnoText()
            var holder = [UInt8](repeating: 0, count: 32)
            let n = pread(descriptor, &holder, holder.count, 0)
            close(descriptor)
            guard busy else { throw RuntimeError("cannot lock '\(lockPath)': \(reason)") }
            let pid = n > 0 ? String(decoding: holder[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
            throw RuntimeError("'\(path)' is in use by another resnetc run (process \(pid)); wait for it to finish or choose another --out")
        }
        let pid = Data("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        return descriptor
    }
}
