import Foundation
import ResNetCodegen
import ResNetIR
import ResNetPasses
import ResNetRuntime
import ResNetSpec

/// What the results table and the curves show of one run directory, read from the files a run
/// leaves there: metrics.csv (finished or still running), an ablation's variant.json and
/// spec.yaml where present (plain `resnetc run` directories have neither; their name is the
/// directory's and the columns that need the spec stay empty).
public struct RunSummary: Sendable {
    /// One metrics row's errors (fractions).
    public struct Point: Sendable, Equatable {
        public var iteration: Int
        public var trainError: Double?
        public var testError: Double?
    }

    public var name: String
    public var directory: String
    public var differences: [String]
    /// finished, failed, or unfinished (running now, or interrupted and resumable).
    public var status: String
    public var message: String?
    public var params: Int?
    public var multiplyAdds: Int?
    /// The training step's arena for one batch.
    public var trainingArenaBytes: Int?
    public var imagesPerSecond: Double?
    public var points: [Point]
    /// Seconds of training and evaluation, summed over the metrics rows (every sitting).
    public var wallSeconds: Double

    public var finalTestError: Double? { points.last?.testError }
    public var bestTestError: Double? { points.compactMap(\.testError).min() }
    public var finalTrainError: Double? { points.last?.trainError }

    /// A row for a directory whose files could not be read, saying why.
    public static func unreadable(directory: String, message: String) -> RunSummary {
        RunSummary(name: URL(fileURLWithPath: directory).lastPathComponent, directory: directory, differences: [], status: "unreadable",
                   message: message, points: [], wallSeconds: 0)
    }

    /// Reads `directory`; a directory with neither metrics nor a variant record is not a run.
    public static func read(directory: String) throws -> RunSummary {
        let record = try VariantRecord.read(directory: directory)
        let metricsPath = directory + "/" + RunDirectory.metricsName
        let hasMetrics = FileManager.default.fileExists(atPath: metricsPath)
        guard hasMetrics || record != nil else {
            throw RuntimeError("'\(directory)' holds no run: it has no \(RunDirectory.metricsName) and no \(VariantRecord.fileName)")
        }
        let rows = hasMetrics ? try MetricsLog.read(metricsPath).rows : []
        let column = Dictionary(uniqueKeysWithValues: MetricsLog.columns.enumerated().map { ($1, $0) })
        func number(_ row: [String], _ name: String) -> Double? { Double(row[column[name]!]) }
        let points = rows.map { Point(iteration: Int(exactly: number($0, "iteration") ?? 0) ?? 0, trainError: number($0, "train_error"), testError: number($0, "test_error")) }
        let seconds = rows.compactMap { number($0, "seconds") }.reduce(0, +)

        let finished = FileManager.default.fileExists(atPath: directory + "/" + RunDirectory.weightsName)
        var summary = RunSummary(name: record?.name ?? URL(fileURLWithPath: directory).lastPathComponent, directory: directory,
                                 differences: record?.differences ?? [], status: finished ? "finished" : "unfinished", message: record?.message,
                                 points: points, wallSeconds: seconds)
        if record?.status == .failed { summary.status = "failed" }
        let specPath = directory + "/" + VariantRecord.specName
        if FileManager.default.fileExists(atPath: specPath) {
            let front = Pipeline.frontEnd(file: specPath)
            if let spec = front.spec, let graph = front.graph {
                let model = ModelSummary(graph: graph)
                summary.params = model.params
                summary.multiplyAdds = model.macs
                let batch = spec.train.batchSize
                if let plan = try? Pipeline.trainingPlan(for: spec, layout: Target.host.layout) {
                    summary.trainingArenaBytes = SizeLimits.product([plan.arenaBytesPerImage, batch])
                }
                // In Double: the iterations come from a file and must not trap on overflow.
                let trained = Double(points.last?.iteration ?? 0) * Double(batch)
                if seconds > 0 { summary.imagesPerSecond = trained / seconds }
            }
        }
        return summary
    }
}
