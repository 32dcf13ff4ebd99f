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
        /// Start, resume or restart the run in `outputDirectory`.
        public var mode: RunDirectory.Mode
        public var threads: Int?
        public var seed: Int

        public init(outputDirectory: String, epochs: Int?, limit: Int?, testLimit: Int? = nil, mode: RunDirectory.Mode, threads: Int?, seed: Int) {
            self.outputDirectory = outputDirectory
            self.epochs = epochs
            self.limit = limit
            self.testLimit = testLimit
            self.mode = mode
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

    public var weightsPath: String { options.outputDirectory + "/" + RunDirectory.weightsName }

    /// What a run reports as it goes: a status line (`final` for an epoch's summary, which stays on
    /// screen), and the iterations done of the run's total.
    public struct Progress {
        public var line: String
        public var final: Bool
        public var iteration: Int
        public var total: Int
    }

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

    /// Trains from `initial` weights (or the checkpoint, when resuming); reports progress to `report`.
    public func run(initial: ParameterValues, source: DatasetSource, report: (Progress) -> Void) throws -> Evaluator.Result? {
        let directory = try RunDirectory(options.outputDirectory, mode: options.mode)
        let wholeTrainSet = try source.load(training: true, input: spec.input)
        let trainSet = wholeTrainSet.prefix(options.limit)
        let testSet = try source.load(training: false, input: spec.input).prefix(options.testLimit)
        try source.check(trainSet, training: true, input: spec.input, classes: spec.classes)
        try source.check(testSet, training: false, input: spec.input, classes: spec.classes)
        let (mean, std) = try source.normalization(for: spec) { wholeTrainSet }
        let loader = BatchLoader(data: trainSet, batchSize: min(spec.train.batchSize, trainSet.count), mean: mean, std: std,
                                 pad: spec.data.augment.pad, flip: spec.data.augment.flip, seed: UInt64(options.seed))
        var settings = spec.train
        if let epochs = options.epochs { settings.length = .epochs(epochs) }
        let schedule = LearningRate(settings: settings, iterationsPerEpoch: loader.batchesPerEpoch)
        let recipe = TrainingRecipe(spec: spec, settings: settings, seed: options.seed, dataset: source, normalization: (mean, std),
                                    trainingImages: trainSet.count)
        let total = schedule.totalIterations

        var iteration = 0
        var metrics = MetricsLog()
        if options.mode == .resume {
            let checkpoint = try Checkpoint.read(directory.checkpointPath, graph: forward, graphHash: graphHash)
            try recipe.requireSame(as: checkpoint.recipe, checkpoint: directory.checkpointPath)
            guard checkpoint.iteration <= total else {
                throw RuntimeError("\(directory.checkpointPath) is at iteration \(checkpoint.iteration), past this run's \(total) iterations")
            }
            try training.load(checkpoint.parameters, into: trainer)
            for p in training.source.parameters {
                guard let velocity = checkpoint.momentum[p.name] else { continue }
                for (i, v) in velocity.enumerated() { trainer.momentum[p.offset + i] = v }
            }
            iteration = checkpoint.iteration
            metrics = checkpoint.metrics
            try metrics.write(to: directory.metricsPath)
            report(Progress(line: iteration == total ? "the run in \(directory.path) is complete (\(total) iterations); writing its weights again"
                            : "resuming \(directory.checkpointPath) at iteration \(iteration) (epoch \(iteration / loader.batchesPerEpoch + 1))",
                            final: true, iteration: iteration, total: total))
        } else {
            try training.load(initial, into: trainer)
        }
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
                    throw diverged("the loss is \(loss) at iteration \(iteration + 1) (epoch \(epoch + 1))", directory: directory, settings: settings)
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
                report(Progress(line: String(format: "epoch %d/%d %@ %5d/%d  %6.0f img/s  loss %.4f  lr %.4g  eta %.0fs", epoch + 1,
                                             (total + loader.batchesPerEpoch - 1) / loader.batchesPerEpoch,
                                             Self.progressBar(done: index + 1, of: loader.batchesPerEpoch), index + 1, loader.batchesPerEpoch,
                                             Double(seen) / max(elapsed, 1e-9), lossSum / Double(seen), lr, remaining),
                                final: false, iteration: iteration, total: total))
            }
            // Parameters, running statistics and momentum are checked before anything is saved:
            // a non-finite statistic would otherwise evaluate to plausible-looking numbers.
            let values = ParameterValues(tensors: training.values(of: trainer.parameters))
            let momentum = ParameterValues(tensors: training.values(of: trainer.momentum))
            for (kind, region) in [("parameter", values), ("momentum of", momentum)] {
                if let (name, index, value) = region.firstNonFinite() {
                    throw diverged("\(kind) '\(name)' is \(value) at index \(index) after iteration \(iteration) (epoch \(epoch + 1))",
                                   directory: directory, settings: settings)
                }
            }
            let result = try evaluate(testSet, mean: mean, std: std)
            lastResult = result
            let seconds = Date().timeIntervalSince(started)
            metrics.append(MetricsLog.Row(iteration: iteration, epoch: epoch + 1, learningRate: schedule.rate(at: max(0, iteration - 1)),
                                          trainLoss: lossSum / Double(seen), trainError: Double(wrong) / Double(seen),
                                          testLoss: result.loss, testError: 1 - result.top1, testTop5Error: 1 - result.top5, seconds: seconds))
            try Checkpoint(parameters: values, momentum: momentum.tensors, iteration: iteration, recipe: recipe, graphHash: graphHash, metrics: metrics)
                .write(to: directory.checkpointPath, graph: forward)
            try metrics.write(to: directory.metricsPath)
            report(Progress(line: String(format: "epoch %d: train loss %.4f error %.2f%% | test loss %.4f top-1 %.2f%% top-5 %.2f%% | %.1fs",
                                         epoch + 1, lossSum / Double(seen), 100 * Double(wrong) / Double(seen), result.loss,
                                         100 * result.top1, 100 * result.top5, seconds),
                            final: true, iteration: iteration, total: total))
        }
        try ParameterValues(tensors: training.values(of: trainer.parameters))
            .write(safetensors: directory.weightsPath, for: forward,
                   data: DataDescription(mean: mean, std: std, names: trainSet.classNames, outputs: spec.classes))
        return lastResult
    }

    /// The error that stops a run whose numbers stopped being finite, saying what is kept.
    private func diverged(_ what: String, directory: RunDirectory, settings: TrainSettings) -> RuntimeError {
        let last = FileManager.default.fileExists(atPath: directory.checkpointPath)
            ? "the last good checkpoint is \(directory.checkpointPath)" : "no checkpoint was written yet"
        return RuntimeError("\(what); training stopped; \(last). Try a lower learning rate (train.lr, now \(settings.learningRate)) or a warm-up")
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
