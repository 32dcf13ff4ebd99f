import Foundation
import ResNetDiagnostics

/// `metrics.csv` of a run: one row per epoch. The rows travel inside each checkpoint and the
/// file is rewritten atomically from them after the checkpoint is safe, so the file never holds
/// a row whose state was not saved, and a resumed run starts from exactly the saved rows.
public struct MetricsLog: Sendable, Equatable {
    public static let columns = ["iteration", "epoch", "lr", "train_loss", "train_error", "test_loss", "test_error", "test_top5_error", "seconds"]
    static let header = columns.joined(separator: ",")

    /// One row; errors are fractions, absent values are written empty.
    public struct Row: Sendable, Equatable {
        public var iteration: Int
        public var epoch: Int
        public var learningRate: Double
        public var trainLoss: Double?
        public var trainError: Double?
        public var testLoss: Double?
        public var testError: Double?
        public var testTop5Error: Double?
        public var seconds: Double

        public init(iteration: Int, epoch: Int, learningRate: Double, trainLoss: Double?, trainError: Double?,
                    testLoss: Double?, testError: Double?, testTop5Error: Double?, seconds: Double) {
            self.iteration = iteration
            self.epoch = epoch
            self.learningRate = learningRate
            self.trainLoss = trainLoss
            self.trainError = trainError
            self.testLoss = testLoss
            self.testError = testError
            self.testTop5Error = testTop5Error
            self.seconds = seconds
        }

        var csv: String {
            func f(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "" }
            return ["\(iteration)", "\(epoch)", f(learningRate), f(trainLoss), f(trainError), f(testLoss), f(testError),
                    f(testTop5Error), String(format: "%.3f", seconds)].joined(separator: ",")
        }
    }

    /// The data lines, each as written (header excluded).
    public private(set) var lines: [String] = []

    public init() {}

    /// Reads the text of a metrics file (from a checkpoint or a run directory); the header must match.
    public init(csv text: String, file: String) throws {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        guard let first = lines.first else { return }
        guard first == Self.header else {
            throw RuntimeError("\(file) has columns '\(first.prefix(200))'; expected '\(Self.header)'")
        }
        lines.removeFirst()
        if let bad = lines.firstIndex(where: { $0.split(separator: ",", omittingEmptySubsequences: false).count != Self.columns.count }) {
            throw RuntimeError("\(file): row \(bad + 1) does not have \(Self.columns.count) columns")
        }
        self.lines = lines
    }

    public mutating func append(_ row: Row) { lines.append(row.csv) }

    /// The whole file: header and rows.
    public var csv: String { ([Self.header] + lines).map { $0 + "\n" }.joined() }

    /// The rows split into fields.
    public var rows: [[String]] { lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } }

    /// Replaces `path` with this log, atomically.
    public func write(to path: String) throws { try AtomicFile.write(Data(csv.utf8), to: path) }

    /// Reads a metrics file.
    public static func read(_ path: String) throws -> MetricsLog {
        try MetricsLog(csv: String(decoding: try FileBytes.read(path, what: "metrics"), as: UTF8.self), file: path)
    }
}
