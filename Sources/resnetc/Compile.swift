import ArgumentParser
import Foundation
import ResNetIR
import ResNetPasses
import ResNetRuntime

/// `resnetc compile SPEC [-o DIR] [--train]`: writes the generated C, the shared library, packed
/// weights and a manifest; with `--train` also the training step (train.c, train.h, libtrain.so)
/// and its initial parameter region, whose layout the manifest gives.
struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile a spec to model.c, model.h, libmodel.so, packed weights and manifest.json.")

    @OptionGroup var options: SpecOptions
    @OptionGroup var model: ModelOptions

    @Option(name: [.customShort("o"), .long], help: "Output directory (default: out/<model name>).")
    var output: String?

    @Flag(help: "Also write the training step: train.c, train.h, libtrain.so and the initial parameter region (parameters.f32), its layout in the manifest.")
    var train = false

    @Option(help: ArgumentHelp("Class names, one per line in label order, for the manifest (default: the weights' or the spec's dataset's).",
                               valueName: "file"))
    var classes: String?

    func run() throws {
        let frontEnd = try options.frontEnd(withLoss: train)
        let spec = frontEnd.spec!
        var graph = frontEnd.graph!
        let withLoss = graph
        graph.outputs = [graph.outputs[0]]
        do {
            let compiler = try model.compiler()
            let build = try InferenceBuild.build(graph, compiler: compiler)
            let values = try model.parameterValues(for: graph, spec: spec)
            let trainingPart = try train ? trainingStep(withLoss, values: values, compiler: compiler) : nil
            let (_, packed) = try build.load(values, maxBatch: 1)
            let plan = build.program.plan
            let trainingArena = try trainingPart?.build.plan.arenaBytesPerImage
                ?? Pipeline.trainingPlan(for: spec, layout: compiler.target.codegen.layout).arenaBytesPerImage
            var manifest = try Artifact.manifest(
                for: build, graph: graph, trainingArenaBytesPerImage: trainingArena, specFile: options.spec, overrides: options.overrides, packedFloats: packed.count,
                weights: model.weights.map { "from \($0)" } ?? "He-initialised, seed \(model.seed ?? spec.seed)")
            manifest.data = try DataDescription.forModel(spec: spec, weights: model.weights, classNamesFile: classes)
            let directory = output ?? "out/\(Artifact.directoryName(for: spec.name))"
            try Artifact.write(to: directory, build: build, packed: packed, manifest: manifest, training: trainingPart)
            print("wrote \(directory): \(build.source.kernelCount) kernels, \(plan.report(batch: 1)), "
                  + (trainingPart.map { "training step with \($0.region.count) parameter floats, " } ?? "")
                  + "compiled in \(String(format: "%.2f", build.compileSeconds)) s\(build.cached ? " (cached library)" : "")")
        } catch {
            throw fail(error)
        }
    }

    /// The training step of `graph` (the forward graph with its loss), starting from `values`.
    private func trainingStep(_ graph: Graph, values: ParameterValues, compiler: CCompiler) throws -> Artifact.TrainingPart {
        let build = try TrainingBuild.build(graph, compiler: compiler)
        return Artifact.TrainingPart(build: build, region: try build.parameterRegion(values))
    }
}
