import Foundation
import ResNetIR
import ResNetSpec

/// Runs a spec's training recipe through the generated training step: seeded batches, the
/// learning-rate schedule, SGD, an evaluation, a metrics row and an atomic checkpoint after
/// every epoch, and exact resumption from the last checkpoint. Under mpirun every rank runs it
/// on its shard of each global batch: gradients (and, without sync batch norm, running
/// statistics) are averaged over the ranks before the same SGD step, rank 0 alone evaluates and
/// writes, and every epoch the ranks check that their parameters are still identical.
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
    /// The ranks of a data-parallel run (this process alone without mpirun).
    public let group: ProcessGroup

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
        group = try ProcessGroup.current()
        training = try TrainingBuild.build(forward, compiler: compiler, syncBatchNorm: spec.train.syncBatchNorm)
        // Each rank steps on its shard; `run` refuses a batch that does not divide among the ranks.
        trainer = try CompiledTrainer(library: training.library, maxBatch: max(1, spec.train.batchSize / group.size))
        trainer.setAverage(group.averageHook, ranks: group.size)
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
        // Rank 0 owns the run directory; the others only read its checkpoint when resuming. Every
        // rank reaches each `agree` so that one rank's refusal stops them all, not a deadlock.
        let directory = try group.agree { try group.isLeader ? RunDirectory(options.outputDirectory, mode: options.mode) : nil }
        let checkpointPath = options.outputDirectory + "/" + RunDirectory.checkpointName
        let (trainSet, testSet, mean, std) = try group.agree {
            let wholeTrainSet = try source.load(training: true, input: spec.input)
            let trainSet = wholeTrainSet.prefix(options.limit)
            let testSet = try source.load(training: false, input: spec.input).prefix(options.testLimit)
            try source.check(trainSet, training: true, input: spec.input, classes: spec.classes)
            try source.check(testSet, training: false, input: spec.input, classes: spec.classes)
            let batch = min(spec.train.batchSize, trainSet.count)
            guard batch % group.size == 0 else {
                throw RuntimeError("the global batch of \(batch) images\(batch < spec.train.batchSize ? " (all \(trainSet.count) training images)" : " (train.batch_size)") "
                                   + "does not divide among \(group.size) ranks: each rank takes an equal shard, so make it a multiple of \(group.size) "
                                   + "(--set train.batch_size=…) or use another -np")
            }
            let (mean, std) = try source.normalization(for: spec) { wholeTrainSet }
            return (trainSet, testSet, mean, std)
        }
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
            let checkpoint = try group.agree {
                let checkpoint = try Checkpoint.read(checkpointPath, graph: forward, graphHash: graphHash)
                try recipe.requireSame(as: checkpoint.recipe, checkpoint: checkpointPath)
                guard checkpoint.iteration <= total else {
                    throw RuntimeError("\(checkpointPath) is at iteration \(checkpoint.iteration), past this run's \(total) iterations")
                }
                return checkpoint
            }
            try training.load(checkpoint.parameters, into: trainer)
            for p in training.source.parameters {
                guard let velocity = checkpoint.momentum[p.name] else { continue }
                for (i, v) in velocity.enumerated() { trainer.momentum[p.offset + i] = v }
            }
            iteration = checkpoint.iteration
            metrics = checkpoint.metrics
            if let directory { try metrics.write(to: directory.metricsPath) }
            report(Progress(line: iteration == total ? "the run in \(options.outputDirectory) is complete (\(total) iterations); writing its weights again"
                            : "resuming \(checkpointPath) at iteration \(iteration) (epoch \(iteration / loader.batchesPerEpoch + 1))",
                            final: true, iteration: iteration, total: total))
        } else {
            try training.load(initial, into: trainer)
        }
        let weightDecay = Float(settings.weightDecay)
        let shard = loader.batchSize / group.size
        let runningStatistics = group.isDistributed && !settings.syncBatchNorm ? runningStatisticRanges() : []
        var lastResult: Evaluator.Result?
        var logits: [Float] = []
        while iteration < total {
            let epoch = iteration / loader.batchesPerEpoch
            let started = Date()
            var lossSum = 0.0, wrong = 0, seen = 0
            var reducing = 0.0, steps = 0  // seconds in the gradient all-reduce this epoch, over steps
            let batches = loader.batches(epoch: epoch, from: iteration % loader.batchesPerEpoch)
            while iteration < total, let (index, batch) = batches.next() {
                let lr = schedule.rate(at: iteration)
                // This rank's shard of the global batch: images rank·shard ..< (rank+1)·shard.
                let images = group.isDistributed ? Array(batch.images[(group.rank * shard * trainer.inputFloats)..<((group.rank + 1) * shard * trainer.inputFloats)]) : batch.images
                let labels = group.isDistributed ? Array(batch.labels[(group.rank * shard)..<((group.rank + 1) * shard)]) : batch.labels
                let loss = try trainer.step(images: images, labels: labels, logits: &logits)
                // Every rank sees a non-finite loss on any rank (one number, all-reduced), so all stop together.
                var losses = [Double(loss)]
                try group.sum(&losses)
                guard losses[0].isFinite else {
                    throw diverged("the loss is \(group.isDistributed ? "\(losses[0] / Double(group.size)) (mean over \(group.size) ranks)" : "\(loss)") "
                                   + "at iteration \(iteration + 1) (epoch \(epoch + 1))", settings: settings)
                }
                let reduceStart = Date()
                try group.average(trainer.gradients)
                for range in runningStatistics { try group.average(UnsafeMutableBufferPointer(rebasing: trainer.parameters[range])) }
                reducing += Date().timeIntervalSince(reduceStart)
                steps += 1
                trainer.sgd(learningRate: Float(lr), momentum: Float(settings.momentum), weightDecay: weightDecay,
                            batchNormWeightDecay: settings.decayBatchNorm ? weightDecay : 0, nesterov: settings.nesterov)
                lossSum += Double(loss) * Double(labels.count)
                wrong += zip(0..<labels.count, labels).filter { row, label in
                    let scores = logits[(row * spec.classes)..<((row + 1) * spec.classes)]
                    return scores.indices.max { scores[$0] < scores[$1] }! - row * spec.classes != Int(label)
                }.count
                seen += labels.count
                iteration += 1
                let elapsed = Date().timeIntervalSince(started)
                let remaining = Double(loader.batchesPerEpoch - index - 1) * elapsed / Double(index + 1)
                report(Progress(line: String(format: "epoch %d/%d %@ %5d/%d  %6.0f img/s  loss %.4f  lr %.4g  eta %.0fs", epoch + 1,
                                             (total + loader.batchesPerEpoch - 1) / loader.batchesPerEpoch,
                                             Self.progressBar(done: index + 1, of: loader.batchesPerEpoch), index + 1, loader.batchesPerEpoch,
                                             Double(seen * group.size) / max(elapsed, 1e-9), lossSum / Double(seen), lr, remaining),
                                final: false, iteration: iteration, total: total))
            }
            // The epoch's loss and training error over every rank's images.
            var totals = [lossSum, Double(wrong), Double(seen)]
            try group.sum(&totals)
            (lossSum, wrong, seen) = (totals[0], Int(totals[1]), Int(totals[2]))
            try group.requireIdentical(trainer.parameters, what: "parameters and running statistics")
            // Parameters, running statistics and momentum are checked before anything is saved:
            // a non-finite statistic would otherwise evaluate to plausible-looking numbers.
            let values = ParameterValues(tensors: training.values(of: trainer.parameters))
            let momentum = ParameterValues(tensors: training.values(of: trainer.momentum))
            for (kind, region) in [("parameter", values), ("momentum of", momentum)] {
                if let (name, index, value) = region.firstNonFinite() {
                    throw diverged("\(kind) '\(name)' is \(value) at index \(index) after iteration \(iteration) (epoch \(epoch + 1))", settings: settings)
                }
            }
            guard let directory else { continue }
            let result = try evaluate(testSet, mean: mean, std: std)
            lastResult = result
            let seconds = Date().timeIntervalSince(started)
            metrics.append(MetricsLog.Row(iteration: iteration, epoch: epoch + 1, learningRate: schedule.rate(at: max(0, iteration - 1)),
                                          trainLoss: lossSum / Double(seen), trainError: Double(wrong) / Double(seen),
                                          testLoss: result.loss, testError: 1 - result.top1, testTop5Error: 1 - result.top5, seconds: seconds))
            try Checkpoint(parameters: values, momentum: momentum.tensors, iteration: iteration, recipe: recipe, graphHash: graphHash, metrics: metrics)
                .write(to: directory.checkpointPath, graph: forward)
            try metrics.write(to: directory.metricsPath)
            let reduced = group.isDistributed ? String(format: " (all-reduce %.1f ms/step on %d ranks)", 1000 * reducing / Double(max(steps, 1)), group.size) : ""
            report(Progress(line: String(format: "epoch %d: train loss %.4f error %.2f%% | test loss %.4f top-1 %.2f%% top-5 %.2f%% | %.1fs%@",
                                         epoch + 1, lossSum / Double(seen), 100 * Double(wrong) / Double(seen), result.loss,
                                         100 * result.top1, 100 * result.top5, seconds, reduced),
                            final: true, iteration: iteration, total: total))
        }
        if directory != nil {
            try ParameterValues(tensors: training.values(of: trainer.parameters))
                .write(safetensors: weightsPath, for: forward,
                       data: DataDescription(mean: mean, std: std, names: trainSet.classNames, outputs: spec.classes))
        }
        return lastResult
    }

    /// Where the running means and variances lie in the parameter region: averaged over the
    /// ranks after each step when every rank keeps its own batch statistics (no sync batch norm),
    /// as PyTorch DDP keeps one copy by broadcasting rank 0's.
    func runningStatisticRanges() -> [Range<Int>] {
        let states = Set(training.training.runningStatistics.map { training.training.graph[$0.state].name })
        return training.source.parameters.filter { states.contains($0.name) }.map { $0.offset..<($0.offset + $0.dims.reduce(1, *)) }
    }

    /// The error that stops a run whose numbers stopped being finite, saying what is kept.
    private func diverged(_ what: String, settings: TrainSettings) -> RuntimeError {
        let last = FileManager.default.fileExists(atPath: options.outputDirectory + "/" + RunDirectory.checkpointName)
            ? "the last good checkpoint is \(options.outputDirectory)/\(RunDirectory.checkpointName)" : "no checkpoint was written yet"
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
