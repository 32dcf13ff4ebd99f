import ArgumentParser
import Foundation
import ResNetIR
import ResNetRuntime
import ResNetSpec

/// Weight source and C-compiler options shared by `compile` and `predict`.
struct ModelOptions: ParsableArguments {
    @Option(help: "Weights as safetensors with torchvision names; without it, weights are He-initialised from --seed.")
    var weights: String?

    @Option(help: "Seed for initial weights (without --weights) and, in run, for shuffling and augmentation (default: the spec's seed).")
    var seed: Int?

    @Option(help: ArgumentHelp("C compiler flags (default: $RESNETC_CFLAGS or \(CCompiler.defaultFlags.joined(separator: " "))).", valueName: "flags"))
    var cflags: String?

    func compiler() throws -> CCompiler {
        try CCompiler(flags: cflags.map { $0.split(separator: " ").map(String.init) })
    }

    /// The parameter values for `graph`: read from --weights or drawn from the seed.
    func parameterValues(for graph: Graph, spec: ModelSpec) throws -> ParameterValues {
        if let weights { return try ParameterValues.load(safetensors: weights, for: graph) }
        return WeightInitializer.initialize(graph, spec: spec, seed: seed ?? spec.seed)
    }
}

/// Where images come from and how many threads to use, shared by `eval` and `run`.
struct DataOptions: ParsableArguments {
    @Option(help: "fashion-mnist[:DIR] or cifar10:DIR (default: the spec's data.dataset).")
    var dataset: String?

    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }
}

/// Prints a runtime failure as `resnetc: error: …` and exits 1.
func fail(_ error: Error) -> ExitCode {
    let message = (error as? RuntimeError)?.message ?? "\(error)"
    FileHandle.standardError.write(Data("resnetc: error: \(message)\n".utf8))
    return ExitCode(1)
}
