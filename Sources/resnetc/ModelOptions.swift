import ArgumentParser
import Foundation
import ResNetIR
import ResNetRuntime
import ResNetSpec

/// Weight source and C-compiler options shared by `compile` and `predict`.
struct ModelOptions: ParsableArguments {
    @Option(help: "Weights as safetensors with torchvision names; without it, weights are He-initialised from --seed.")
    var weights: String?

    @Option(parsing: .unconditional, help: "Seed for initial weights (without --weights) and, in run, for shuffling and augmentation (default: the spec's seed).")
    var seed: Int?

    @Option(parsing: .unconditional,
            help: ArgumentHelp("C compiler flags (default: $RESNETC_CFLAGS or \(CCompiler.defaultFlags.joined(separator: " "))).", valueName: "flags"))
    var cflags: String?

    @Option(help: ArgumentHelp("The machine to generate code for: native (this CPU), avx512, avx2 or generic (portable C); replaces -march in the flags.",
                               valueName: "machine"))
    var target: TargetMachine?

    func validate() throws {
        if let seed, !(0...Int(UInt32.max)).contains(seed) { throw ValidationError("--seed must be from 0 to \(UInt32.max), as the spec's seed") }
    }

    func compiler() throws -> CCompiler {
        try CCompiler(flags: cflags.map { $0.split(separator: " ").map(String.init) }, machine: target)
    }

    /// The parameter values for `graph`: read from --weights or drawn from the seed.
    func parameterValues(for graph: Graph, spec: ModelSpec) throws -> ParameterValues {
        if let weights { return try ParameterValues.load(safetensors: weights, for: graph) }
        return WeightInitializer.initialize(graph, spec: spec, seed: seed ?? spec.seed)
    }
}

/// Where images come from, how to read them and how many threads to use, shared by `eval`, `run` and `ablate`.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("fashion-mnist[:DIR], cifar10:DIR, cifar100:DIR[:coarse], idx:DIR (MNIST-family IDX files) or folder:ROOT "
                               + "(ROOT/train/<class>/*.png|jpg and ROOT/test/<class>/…) (default: the spec's data.dataset)."))
    var dataset: String?

    @Option(help: ArgumentHelp("Class names, one per line in label order, replacing the dataset's own.", valueName: "file"))
    var classes: String?

    @Flag(help: "Image folders: skip files that do not decode (counted in a warning) instead of stopping at the first.")
    var skipBad = false

    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    func validate() throws { try CountOption.threads.validate(threads) }

    /// How DatasetSource reads the data: these options, decoded folders cached beside compiled libraries.
    var sourceOptions: DatasetSource.Options {
        DatasetSource.Options(classNamesFile: classes, skipBad: skipBad, threads: threads, cacheDirectory: CacheLocation.directory())
    }
}

/// How much of the recipe and of the data a training run uses, shared by `run` and `ablate`.
struct RunLengthOptions: ParsableArguments {
    @Option(help: "Train for N epochs instead of the spec's run length.")
    var epochs: Int?

    @Option(help: "Train on the first N training images only.")
    var limit: Int?

    @Option(help: "Evaluate on the first N test images only.")
    var testLimit: Int?

    func validate() throws {
        try CountOption.epochs.validate(epochs)
        try CountOption.limit.validate(limit)
        try CountOption.testLimit.validate(testLimit)
    }
}

/// A whole-number option and the range resnetc accepts for it: the generated C takes 32-bit
/// counts, so anything larger is refused here, by name, before it can overflow.
struct CountOption {
    let flag: String
    let range: ClosedRange<Int>

    static let threads = CountOption(flag: "--threads", range: 1...1024)
    static let batch = CountOption(flag: "--batch", range: 1...65536)
    static let epochs = CountOption(flag: "--epochs", range: 1...(1 << 20))
    static let limit = CountOption(flag: "--limit", range: 1...Int(Int32.max))
    static let testLimit = CountOption(flag: "--test-limit", range: 1...Int(Int32.max))

    func validate(_ value: Int?) throws {
        if let value, !range.contains(value) {
            throw ValidationError("\(flag) must be from \(range.lowerBound) to \(range.upperBound), not \(value)")
        }
    }
}

/// Prints a runtime failure as `resnetc: error: …` and exits 1.
func fail(_ error: Error) -> ExitCode {
    let message = (error as? RuntimeError)?.message ?? "\(error)"
    FileHandle.standardError.write(Data("resnetc: error: \(message)\n".utf8))
    return ExitCode(1)
}

extension TargetMachine: ExpressibleByArgument {}
