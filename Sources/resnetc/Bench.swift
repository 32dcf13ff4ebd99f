import ArgumentParser
import Foundation
import ResNetIR
import ResNetPasses
import ResNetRuntime

/// `resnetc bench SPEC`: compiles, warms up and times a forward pass (or, with --train, a
/// training step) on seeded random data, and reports the median against the measured FMA peak.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time a forward pass (or a training step): median ms per batch, images/s, GFLOP/s and the fraction of the FMA peak.")

    @OptionGroup var options: SpecOptions
    @OptionGroup var model: ModelOptions

    @Option(help: "Images per batch.")
    var batch = 1

    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    @Flag(help: "Time one training step (forward with batch statistics, backward, SGD) instead of a forward pass.")
    var train = false

    @Option(help: "Time for at least this many seconds (and at least 5 calls).")
    var seconds = 3.0

    @Flag(help: "Print one line of JSON: median_ms, images_per_s, gflops, peak_fraction, arena_bytes and more.")
    var json = false

    func validate() throws {
        try CountOption.batch.validate(batch)
        try CountOption.threads.validate(threads)
        guard seconds.isFinite, (0...3600).contains(seconds) else { throw ValidationError("--seconds must be from 0 to 3600, not \(seconds)") }
    }

    func run() throws {
        let frontEnd = try options.frontEnd(withLoss: train)
        let spec = frontEnd.spec!, graph = frontEnd.graph!
        do {
            let compiler = try model.compiler()
            let values = try model.parameterValues(for: graph, spec: spec)
            let macs = Double(ModelSummary(graph: graph).macs)
            var random = SplitMix64(seed: UInt64(model.seed ?? spec.seed))
            let inputFloats = batch * spec.input.channels * spec.input.height * spec.input.width
            guard inputFloats <= Int(ProcessInfo.processInfo.physicalMemory / 8) else {
                throw RuntimeError("--batch \(batch): the input alone would take \(inputFloats / (1 << 28)) GiB, over half of this machine's memory")
            }
            let images = (0..<inputFloats).map { _ in Float(random.nextNormal()) }
            let timing: (seconds: Double, runs: Int)
            let flops: Double, arenaBytes: Int
            if train {
                let build = try TrainingBuild.build(graph, compiler: compiler)
                let trainer = try CompiledTrainer(library: build.library, maxBatch: batch)
                if let threads { trainer.setThreadCount(threads) }
                try build.load(values, into: trainer)
                let labels = (0..<batch).map { _ in Int32(random.next() % UInt64(spec.classes)) }
                var logits: [Float] = []
                timing = try Benchmark.median(minimumSeconds: seconds) {
                    _ = try trainer.step(images: images, labels: labels, logits: &logits)
                    trainer.sgd(learningRate: 1e-3, momentum: 0.9, weightDecay: 1e-4, batchNormWeightDecay: 1e-4, nesterov: false)
                }
                flops = 3 * 2 * macs * Double(batch)
                arenaBytes = build.plan.arenaBytesPerImage * batch
            } else {
                let build = try InferenceBuild.build(graph, compiler: compiler)
                let compiled = try build.load(values, maxBatch: batch).model
                if let threads { compiled.setThreadCount(threads) }
                timing = try Benchmark.median(minimumSeconds: seconds) { _ = try compiled.forward(images, count: batch) }
                flops = 2 * macs * Double(batch)
                arenaBytes = build.program.plan.arenaBytesPerImage * batch
            }
            let peak = try FMAPeak.measure(compiler: compiler, threads: threads ?? 0)
            let report = BenchmarkReport(seconds: timing.seconds, runs: timing.runs, batch: batch, flops: flops, peak: peak, arenaBytes: arenaBytes)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(String(format: "%@ %@, batch %d: %.3f ms (median of %d), %.1f images/s, %.1f GFLOP/s = %.0f%% of the measured "
                             + "%d-lane FMA peak (%.1f GFLOP/s); arena %.2f MiB, peak RSS %.1f MiB", spec.name, train ? "training step" : "forward",
                             batch, report.medianMilliseconds, report.runs, report.imagesPerSecond, report.gflops, 100 * report.peakFraction,
                             report.vectorLanes, report.peakGflops, Double(report.arenaBytes) / 1048576, Double(report.peakRSSBytes) / 1048576))
            }
        } catch { throw fail(error) }
    }
}
