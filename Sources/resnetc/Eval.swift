import ArgumentParser
import Foundation
import ResNetReports
import ResNetRuntime
import ResNetSpec

/// `resnetc eval SPEC --weights W --dataset … [--report DIR]`: accuracy and loss on a dataset's
/// test split, and with --report the confusion matrix and per-class scores.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate weights on a dataset's test split: top-1 and top-5 accuracy and mean cross-entropy, "
            + "and with --report a confusion matrix and per-class precision, recall and F1.")

    @OptionGroup var options: SpecOptions
    @OptionGroup var model: ModelOptions

    @OptionGroup var data: DataOptions

    @Flag(help: "Print {\"top1\": …, \"top5\": …, \"loss\": …, \"images\": …} (accuracies as fractions).")
    var json = false

    @Option(help: ArgumentHelp("Write report.md, per_class.csv, confusion.csv and confusion.svg into this directory.", valueName: "dir"))
    var report: String?

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
            if let report { try ClassificationReport.requireWritable(in: report) }
            let source = try DatasetSource.resolve(argument: data.dataset, spec: spec, options: data.sourceOptions)
            let test = try source.load(training: false, input: spec.input).prefix(limit)
            try source.check(test, training: false, input: spec.input, classes: spec.classes)
            let description = try model.weights.flatMap { try DataDescription.read(weights: $0) }
            let (mean, std) = try source.normalization(for: spec, trainedWith: description) { try source.load(training: true, input: spec.input) }
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
                             spec.name, result.images, source.kind.name, 100 * result.top1, 100 * (1 - result.top1),
                             100 * result.top5, result.loss))
            }
            if let report {
                guard !result.confusion.isEmpty else {
                    throw RuntimeError("--report draws at most \(Evaluator.confusionClassLimit) classes; the spec has \(spec.classes)")
                }
                let names = DataDescription(mean: mean, std: std, names: test.classNames, outputs: spec.classes).classes
                try ClassificationReport(title: "\(spec.name) on the \(source.kind.name) test split", classNames: names, confusion: result.confusion,
                                         top1: result.top1, top5: result.top5, loss: result.loss).write(to: report)
                if !json { print("report: \(report)/\(ClassificationReport.markdownName) (and \(ClassificationReport.scoresName), "
                                 + "\(ClassificationReport.confusionName), \(ClassificationReport.plotName))") }
            }
        } catch { throw fail(error) }
    }
}
