import Foundation
import ResNetCodegen
import ResNetIR
import ResNetPasses

/// A forward graph taken through the inference passes, code generation and the C compiler:
/// everything needed to load the model and feed it raw parameters.
public struct InferenceBuild {
    public let program: Pipeline.InferenceProgram
    public let source: ModelSource
    /// The shared library (in the compile cache).
    public let library: String
    public let cached: Bool
    /// Seconds spent in passes, code generation and the C compiler.
    public let compileSeconds: Double
    public let compiler: CCompiler

    public static func build(_ graph: Graph, compiler: CCompiler) throws -> InferenceBuild {
        let start = Date()
        let program: Pipeline.InferenceProgram
        let source: ModelSource
        do {
            let target = compiler.target.codegen
            program = try Pipeline.inferenceProgram(graph, layout: target.layout)
            source = try CodeGenerator.generate(graph: program.graph, plan: program.plan, target: target)
        } catch let error as ShapeError {
            throw RuntimeError("internal compiler error in a pass: \(error)")
        } catch {
            throw RuntimeError("code generation failed: \(error)")
        }
        let (library, cached) = try compiler.compileSharedLibrary(source: source.c, header: source.header)
        return InferenceBuild(program: program, source: source, library: library, cached: cached,
                              compileSeconds: Date().timeIntervalSince(start), compiler: compiler)
    }

    /// (name, float count) of each raw parameter, in the order `rc_pack` reads them.
    public var rawLayout: [(name: String, count: Int)] {
        source.rawParameters.map { ($0.name, $0.dims.reduce(1, *)) }
    }

    /// Loads the library, packs `values` and readies it for batches of up to `maxBatch`.
    public func load(_ values: ParameterValues, maxBatch: Int) throws -> (model: CompiledModel, packed: [Float]) {
        let model = try CompiledModel(library: library)
        let packed = try model.packWeights(try values.rawVector(for: rawLayout))
        try model.load(packed: packed, maxBatch: maxBatch)
        return (model, packed)
    }
}
