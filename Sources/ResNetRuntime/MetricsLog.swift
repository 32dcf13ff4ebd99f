import Foundation

/// `metrics.csv` of a run: one row per epoch (and per evaluation), appended and flushed as it is
/// written so that a killed run keeps every finished row, and continued by a resumed run.
public struct MetricsLog {
    public static let columns = ["iteration", "epoch", "lr", "train_loss", "train_error", "test_loss", "test_error", "test_top5_error", "seconds"]

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

    public let path: String

    /// Opens the log, writing the header if the file is new; an existing file must have the same columns.
    public init(path: String) throws {
        self.path = path
        let header = Self.columns.joined(separator: ",")
        if let existing = FileManager.default.contents(atPath: path), !existing.isEmpty {
            let first = String(decoding: existing.prefix { $0 != 0x0A }, as: UTF8.self)
            guard first == header else {
                throw RuntimeError("\(path) exists with columns '\(first)'; expected '\(header)' (move it away or choose another --out)")
            }
        } else {
            try AtomicFile.write(Data((header + "\n").utf8), to: path)
        }
    }

    /// Appends a row and flushes it to disk.
    public func append(_ row: Row) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else { throw RuntimeError("cannot append to \(path)") }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((row.csv + "\n").utf8))
        try handle.synchronize()
    }

    /// The rows already written (for resuming and for tests).
    public func rows() throws -> [[String]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }
}
