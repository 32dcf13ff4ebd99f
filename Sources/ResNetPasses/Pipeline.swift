import ResNetDiagnostics
import ResNetIR
import ResNetSpec

/// The whole compile, as an ordered list of stages. Reading this file tells what resnetc does
/// to a spec; each stage is documented in its own file.
public enum Pipeline {
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
}
