import ArgumentParser
import Foundation
import ResNetRuntime
import ResNetSpec

/// `resnetc eval SPEC --weights W --dataset …`: accuracy and loss on a dataset's test split.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate weights on a dataset's test split: top-1 and top-5 accuracy and mean cross-entropy.")

    @OptionGroup var options: SpecOptions
    @OptionGroup var model: ModelOptions

    @OptionGroup var data: DataOptions

    @Flag(help: "Print {\"top1\": …, \"top5\": …, \"loss\": …, \"images\": …} (accuracies as fractions).")
    var json = false

    @Option(help: "Evaluate only the first N test images.")
    var limit: Int?

    @Option(help: "Images per forward call.")
    var batch = 250


    func validate() throws {
        try CountOption.batch.validate(batch)
        try CountOption.limit.validate(limit)
    }

    func run() throws {
        let frontEnd = try options.frontEnd()
        let spec = frontEnd.spec!, graph = frontEnd.graph!
        do {
            let source = try DatasetSource.resolve(argument: data.dataset, spec: spec)
            let test = try source.load(training: false).prefix(limit)
            try source.check(test, training: false, input: spec.input, classes: spec.classes)
            let (mean, std) = source.normalization(for: spec)
            let build = try InferenceBuild.build(graph, compiler: try model.compiler())
            let loaded = try build.load(try model.parameterValues(for: graph, spec: spec), maxBatch: batch).model
            if let threads = data.threads { loaded.setThreadCount(threads) }
            let result = try Evaluator.evaluate(loaded, on: test, mean: mean, std: std, batch: batch)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                print(String(format: "%@ on %d %@ test images: top-1 %.2f%% (error %.2f%%), top-5 %.2f%%, loss %.4f",
                             spec.name, result.images, source.dataset.rawValue, 100 * result.top1, 100 * (1 - result.top1),
                             100 * result.top5, result.loss))
            }
        } catch { throw fail(error) }
    }
}
