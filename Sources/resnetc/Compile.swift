import ArgumentParser
import Foundation
import ResNetIR
import ResNetPasses
import ResNetRuntime

/// `resnetc compile SPEC [-o DIR]`: writes the generated C, the shared library, packed weights
/// and a manifest.
struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile a spec to model.c, model.h, libmodel.so, packed weights and manifest.json.")

    @OptionGroup var options: SpecOptions
    @OptionGroup var model: ModelOptions

    @Option(name: [.customShort("o"), .long], help: "Output directory (default: out/<model name>).")
    var output: String?

    func run() throws {
        let frontEnd = try options.frontEnd()
        let graph = frontEnd.graph!, spec = frontEnd.spec!
        do {
            let compiler = try model.compiler()
            let build = try InferenceBuild.build(graph, compiler: compiler)
            let values = try model.parameterValues(for: graph, spec: spec)
            let (_, packed) = try build.load(values, maxBatch: 1)
            let plan = build.program.plan
            let training = try Pipeline.trainingPlan(for: spec, layout: compiler.target.codegen.layout)
            let manifest = try Artifact.manifest(
                for: build, graph: graph, trainingArenaBytesPerImage: training.arenaBytesPerImage, specFile: options.spec, overrides: options.overrides, packedFloats: packed.count,
                weights: model.weights.map { "from \($0)" } ?? "He-initialised, seed \(model.seed ?? spec.seed)")
            let directory = output ?? "out/\(Artifact.directoryName(for: spec.name))"
            try Artifact.write(to: directory, build: build, packed: packed, manifest: manifest)
            print("wrote \(directory): \(build.source.kernelCount) kernels, \(plan.report(batch: 1)), "
                  + "compiled in \(String(format: "%.2f", build.compileSeconds)) s\(build.cached ? " (cached library)" : "")")
        } catch {
            throw fail(error)
        }
    }
}
