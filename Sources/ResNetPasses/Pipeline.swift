import ResNetDiagnostics
import ResNetIR
import ResNetSpec

/// One named graph-to-graph step of the pipeline.
public struct GraphPass: Sendable {
    public let name: String
    public let run: @Sendable (Graph) throws(ShapeError) -> Graph
}

/// The whole compile, as an ordered list of stages. Reading this file tells what resnetc does
/// to a spec; each stage is documented in its own file.
public enum Pipeline {
    /// Inference passes, in order. Each result is verified (`GraphRebuilder.finish`).
    public static let inference: [GraphPass] = [
        // Fold each BN into the conv before it: conv_bias with weights folded at pack time.
        GraphPass(name: "fold-batch-norm", run: FoldBatchNorm.run),
        // Fuse the residual add and the ReLU after a conv into its epilogue.
        GraphPass(name: "fuse-epilogues", run: FuseEpilogues.run),
        // Drop what the fusions left unused (the original BN parameters stay: folding reads them).
        GraphPass(name: "eliminate-dead-nodes", run: EliminateDeadNodes.run),
        // Fix the execution order: depth-first from the outputs.
        GraphPass(name: "schedule", run: Schedule.run),
    ]

    /// What the front end (load, validate, lower) produced for one spec file.
    public struct FrontEndResult: Sendable {
        public var spec: ModelSpec?
        public var graph: Graph?
        public var diagnostics: [Diagnostic]
        /// File texts read, for quoting lines in diagnostics.
        public var sources: [String: String]

        public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
    }

    /// Front end: read YAML and `extends:` (SpecLoader), apply `--set`, validate against the
    /// schema and across keys (SpecDecoder), lower to the forward graph with shapes (LowerSpec).
    public static func frontEnd(file: String, overrides: [SpecOverride] = [], withLoss: Bool = false) -> FrontEndResult {
        let loaded = SpecLoader(overrides: overrides).load(file: file)
        var result = FrontEndResult(spec: loaded.spec, graph: nil, diagnostics: loaded.diagnostics, sources: loaded.sources)
        guard let spec = loaded.spec else { return result }
        do {
            result.graph = try LowerSpec.lower(spec, withLoss: withLoss)
        } catch {
            result.diagnostics += error.diagnostics
        }
        return result
    }

    /// A forward graph after the inference passes, with its memory plan.
    public struct InferenceProgram: Sendable {
        /// The graph as lowered, whose parameters are the weight file's tensors.
        public var source: Graph
        /// After every pass, in order; the last is what code generation reads.
        public var stages: [(pass: String, graph: Graph)]
        public var plan: MemoryPlan

        public var graph: Graph { stages.last?.graph ?? source }
    }

    /// Training: lower a validated spec with its loss, differentiate it and plan its arena for
    /// feature maps stored in `layout`.
    public static func trainingPlan(for spec: ModelSpec, layout: TensorLayout) throws -> MemoryPlan {
        PlanMemory.run(try Differentiate.run(try LowerSpec.lower(spec, withLoss: true)).graph, layout: layout)
    }

    /// Runs the inference passes and plans memory for feature maps stored in `layout`.
    public static func inferenceProgram(_ graph: Graph, layout: TensorLayout) throws(ShapeError) -> InferenceProgram {
        var stages: [(pass: String, graph: Graph)] = []
        var current = graph
        for pass in inference {
            current = try pass.run(current)
            stages.append((pass.name, current))
        }
        return InferenceProgram(source: graph, stages: stages, plan: PlanMemory.run(current, layout: layout))
    }
}
