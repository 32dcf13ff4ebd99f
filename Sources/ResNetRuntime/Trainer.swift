import Foundation
import ResNetIR
import ResNetSpec

/// Runs a spec's training recipe through the generated training step: seeded batches, the
/// learning-rate schedule, SGD, an evaluation, a metrics row and an atomic checkpoint after
/// every epoch, and exact resumption from the last checkpoint.
public final class Trainer {
    /// What a run needs besides the spec.
    public struct Options {
        public var outputDirectory: String
        public var epochs: Int?
        public var limit: Int?
        /// Evaluate on the first N test images only (smoke runs, tests).
        public var testLimit: Int?
        public var resume: Bool
        public var threads: Int?
        public var seed: Int

        public init(outputDirectory: String, epochs: Int?, limit: Int?, testLimit: Int? = nil, resume: Bool, threads: Int?, seed: Int) {
            self.outputDirectory = outputDirectory
            self.epochs = epochs
            self.limit = limit
            self.testLimit = testLimit
            self.resume = resume
            self.threads = threads
            self.seed = seed
        }
    }

    public let spec: ModelSpec
    public let forward: Graph
    public let options: Options
    let training: TrainingBuild
    let trainer: CompiledTrainer
    let evaluator: CompiledModel
    let inference: InferenceBuild
    let graphHash: String

    public var checkpointPath: String { options.outputDirectory + "/checkpoint.safetensors" }
    public var weightsPath: String { options.outputDirectory + "/weights.safetensors" }
    public var metricsPath: String { options.outputDirectory + "/metrics.csv" }

    /// Compiles the training step and the inference model for evaluation.
    public init(spec: ModelSpec, forward: Graph, options: Options, compiler: CCompiler) throws {
        self.spec = spec
        self.forward = forward
        self.options = options
        training = try TrainingBuild.build(forward, compiler: compiler)
        trainer = try CompiledTrainer(library: training.library, maxBatch: spec.train.batchSize)
        var inferenceGraph = forward
        inferenceGraph.outputs = [forward.outputs[0]]
        inference = try InferenceBuild.build(inferenceGraph, compiler: compiler)
        evaluator = try CompiledModel(library: inference.library)
        graphHash = SHA256.hex(GraphPrinter.print(training.training.graph))
        if let threads = options.threads {
            trainer.setThreadCount(threads)
            evaluator.setThreadCount(threads)
        }
    }

    /// Accuracy and loss of the current parameters (running statistics for batch norm) on `data`.
    public func evaluate(_ data: LabeledImages, mean: [Float], std: [Float]) throws -> Evaluator.Result {
        let values = ParameterValues(tensors: training.values(of: trainer.parameters))
        try evaluator.load(packed: try evaluator.packWeights(try values.rawVector(for: inference.rawLayout)), maxBatch: 250)
        return try Evaluator.evaluate(evaluator, on: data, mean: mean, std: std, batch: 250)
    }

    /// Trains from `initial` weights (or the checkpoint, with `resume`); reports progress to `report`.
    public func run(initial: ParameterValues, source: DatasetSource, report: (String, Bool) -> Void) throws -> Evaluator.Result? {
        try FileManager.default.createDirectory(atPath: options.outputDirectory, withIntermediateDirectories: true)
        let trainSet = try source.load(training: true).prefix(options.limit)
        let testSet = try source.load(training: false).prefix(options.testLimit)
        try source.check(trainSet, input: spec.input, classes: spec.classes)
        let (mean, std) = source.normalization(for: spec)
        let loader = BatchLoader(data: trainSet, batchSize: min(spec.train.batchSize, trainSet.count), mean: mean, std: std,
                                 pad: spec.data.augment.pad, flip: spec.data.augment.flip, seed: UInt64(options.seed))
        var settings = spec.train
        if let epochs = options.epochs { settings.length = .epochs(epochs) }
        let schedule = LearningRate(settings: settings, iterationsPerEpoch: loader.batchesPerEpoch)

        var iteration = 0
        if options.resume, FileManager.default.fileExists(atPath: checkpointPath) {
            let checkpoint = try Checkpoint.read(checkpointPath, graph: forward, graphHash: graphHash)
            try training.load(checkpoint.parameters, into: trainer)
            for (name, velocity) in checkpoint.momentum {
                guard let p = training.source.parameters.first(where: { $0.name == name }) else { continue }
                for (i, v) in velocity.enumerated() { trainer.momentum[p.offset + i] = v }
            }
            iteration = checkpoint.iteration
            report("resuming \(checkpointPath) at iteration \(iteration) (epoch \(iteration / loader.batchesPerEpoch + 1))", true)
        } else {
            try training.load(initial, into: trainer)
        }
        let log = try MetricsLog(path: metricsPath)
        let total = schedule.totalIterations
        let weightDecay = Float(settings.weightDecay)
        var lastResult: Evaluator.Result?
        var logits: [Float] = []
        while iteration < total {
            let epoch = iteration / loader.batchesPerEpoch
            let started = Date()
            var lossSum = 0.0, wrong = 0, seen = 0
            let batches = loader.batches(epoch: epoch, from: iteration % loader.batchesPerEpoch)
            while iteration < total, let (index, batch) = batches.next() {
                let lr = schedule.rate(at: iteration)
                let loss = try trainer.step(images: batch.images, labels: batch.labels, logits: &logits)
                guard loss.isFinite else {
                    let last = FileManager.default.fileExists(atPath: checkpointPath) ? "the last good checkpoint is \(checkpointPath)" : "no checkpoint was written yet"
                    throw RuntimeError("the loss is \(loss) at iteration \(iteration + 1) (epoch \(epoch + 1)); training stopped; \(last). "
                                       + "Try a lower learning rate (train.lr, now \(settings.learningRate)) or a warm-up")
                }
                trainer.sgd(learningRate: Float(lr), momentum: Float(settings.momentum), weightDecay: weightDecay,
                            batchNormWeightDecay: settings.decayBatchNorm ? weightDecay : 0, nesterov: settings.nesterov)
                lossSum += Double(loss) * Double(batch.count)
                wrong += zip(0..<batch.count, batch.labels).filter { row, label in
                    let scores = logits[(row * spec.classes)..<((row + 1) * spec.classes)]
                    return scores.indices.max { scores[$0] < scores[$1] }! - row * spec.classes != Int(label)
                }.count
                seen += batch.count
                iteration += 1
                let elapsed = Date().timeIntervalSince(started)
                let remaining = Double(loader.batchesPerEpoch - index - 1) * elapsed / Double(index + 1)
                report(String(format: "epoch %d/%d %@ %5d/%d  %6.0f img/s  loss %.4f  lr %.4g  eta %.0fs", epoch + 1,
                              (total + loader.batchesPerEpoch - 1) / loader.batchesPerEpoch,
                              Self.progressBar(done: index + 1, of: loader.batchesPerEpoch), index + 1, loader.batchesPerEpoch,
                              Double(seen) / max(elapsed, 1e-9), lossSum / Double(seen), lr, remaining), false)
            }
            let values = ParameterValues(tensors: training.values(of: trainer.parameters))
            let result = try evaluate(testSet, mean: mean, std: std)
            lastResult = result
            let seconds = Date().timeIntervalSince(started)
            try log.append(MetricsLog.Row(iteration: iteration, epoch: epoch + 1, learningRate: schedule.rate(at: max(0, iteration - 1)),
                                          trainLoss: lossSum / Double(max(1, seen)), trainError: Double(wrong) / Double(max(1, seen)),
                                          testLoss: result.loss, testError: 1 - result.top1, testTop5Error: 1 - result.top5, seconds: seconds))
            let momentum = training.values(of: trainer.momentum)
            try Checkpoint(parameters: values, momentum: momentum, iteration: iteration, seed: UInt64(options.seed), graphHash: graphHash)
                .write(to: checkpointPath, graph: forward)
            report(String(format: "epoch %d: train loss %.4f error %.2f%% | test loss %.4f top-1 %.2f%% top-5 %.2f%% | %.1fs",
                          epoch + 1, lossSum / Double(max(1, seen)), 100 * Double(wrong) / Double(max(1, seen)), result.loss,
                          100 * result.top1, 100 * result.top5, seconds), true)
        }
        try ParameterValues(tensors: training.values(of: trainer.parameters)).write(safetensors: weightsPath, for: forward)
        return lastResult
    }

    /// `[=========>          ]`: how much of the epoch is done, 20 characters wide.
    static func progressBar(done: Int, of total: Int) -> String {
        let width = 20
        let filled = min(width, done * width / max(total, 1))
        let head = filled < width ? ">" : ""
        return "[" + String(repeating: "=", count: max(0, filled - head.count)) + head
            + String(repeating: " ", count: width - max(filled, head.count)) + "]"
    }
}
