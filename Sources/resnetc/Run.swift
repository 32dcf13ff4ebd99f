import ArgumentParser
import Foundation
import ResNetRuntime
import ResNetSpec

/// `resnetc run SPEC`: trains on a real dataset and evaluates after every epoch.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a spec on a dataset (built-in, IDX, CIFAR or an image folder) with its recipe; metrics, checkpoints and weights go to --out.")

    @OptionGroup var options: SpecOptions
    @OptionGroup var model: ModelOptions

    @OptionGroup var data: DataOptions

    @OptionGroup var length: RunLengthOptions

    @Option(help: "Output directory for metrics.csv, checkpoint.safetensors and weights.safetensors (default: runs/<name>).")
    var out: String?

    @Flag(help: "Continue the run whose checkpoint is in --out (with the options that started it).")
    var resume = false

    @Flag(help: "Start over in an --out that holds an earlier run, removing its metrics.csv, checkpoint and weights (nothing else).")
    var restart = false

    func validate() throws {
        if resume && restart { throw ValidationError("--resume continues the run in --out, --restart starts it over: give one") }
    }

    func run() throws {
        let frontEnd = try options.frontEnd(withLoss: true)
        let spec = frontEnd.spec!, graph = frontEnd.graph!
        let interactive = isatty(STDOUT_FILENO) == 1
        do {
            let source = try DatasetSource.resolve(argument: data.dataset, spec: spec, options: data.sourceOptions)
            let directory = out ?? "runs/\(Artifact.directoryName(for: spec.name))"
            let seed = model.seed ?? spec.seed
            let trainer = try Trainer(spec: spec, forward: graph, options: .init(outputDirectory: directory, epochs: length.epochs, limit: length.limit,
                                                                                 testLimit: length.testLimit, mode: resume ? .resume : restart ? .restart : .start,
                                                                                 threads: data.threads, seed: seed),
                                      compiler: try model.compiler())
            var lastPlain = Date.distantPast
            let group = trainer.group
            let result = try trainer.run(initial: try model.parameterValues(for: graph, spec: spec), source: source) { progress in
                if group.isLeader { StatusLine.show(progress.line, final: progress.final, interactive: interactive, lastPlain: &lastPlain) }
            }
            if let result {
                print(String(format: "%@: test top-1 accuracy %.2f%% (top-5 %.2f%%) on %d images%@; weights in %@",
                             spec.name, 100 * result.top1, 100 * result.top5, result.images,
                             group.isDistributed ? " (trained on \(group.size) ranks)" : "", trainer.weightsPath))
            }
            group.finish()
        } catch {
            stopEveryRank(after: error, checkpoint: (out ?? "runs/\(Artifact.directoryName(for: spec.name))") + "/" + RunDirectory.checkpointName)
            throw fail(error)
        }
    }
}
