import Foundation
import ResNetDiagnostics
import ResNetIR

/// A model's parameters and batch-norm statistics by name, as in a torchvision state dict: the
/// bridge between weight files, initialisation and the raw vector `rc_pack` reads.
public struct ParameterValues: Sendable {
    public var tensors: [String: [Float]]

    public init(tensors: [String: [Float]]) { self.tensors = tensors }

    /// Reads a safetensors state dict and checks it against the graph's parameters: every
    /// missing, unknown, misshapen or non-finite tensor is reported, by name, with both shapes or
    /// the index of its first NaN or infinity.
    public static func load(safetensors path: String, for graph: Graph) throws -> ParameterValues {
        let entries = try SafeTensors.read(path)
        var problems: [String] = []
        var tensors: [String: [Float]] = [:]
        let expected = Dictionary(uniqueKeysWithValues: graph.parameters.map { (graph[$0].name, graph[$0].type.dims) })
        for (name, dims) in expected.sorted(by: { $0.key < $1.key }) {
            guard let entry = entries[name] else {
                problems.append("missing tensor '\(name)' (expected shape \(dims))")
                continue
            }
            guard entry.shape == dims else {
                problems.append("tensor '\(name)' has shape \(entry.shape); the model expects \(dims)")
                continue
            }
            if let problem = Self.valueProblem(name, entry.values, isVariance: name.hasSuffix("running_var")) {
                problems.append(problem)
                continue
            }
            tensors[name] = entry.values
        }
        let unknown = entries.keys.sorted().filter { expected[$0] == nil && !$0.hasSuffix("num_batches_tracked") }
        for (i, name) in unknown.enumerated() {
            // Suggestions cost an edit distance against every name: offered for the first few only.
            let suggestion = i < Self.shownProblems ? NearestName.suggestion(for: name, among: Array(expected.keys)).map { "; did you mean '\($0)'?" } : nil
            problems.append("unknown tensor '\(name)'\(suggestion ?? "")")
        }
        guard problems.isEmpty else {
            let shown = problems.prefix(Self.shownProblems).map { "  " + $0 }
            let more = problems.count > Self.shownProblems ? ["  … and \(problems.count - Self.shownProblems) more"] : []
            throw RuntimeError("\(path) does not fit model '\(graph.name)':\n" + (shown + more).joined(separator: "\n"))
        }
        return ParameterValues(tensors: tensors)
    }

    /// How many problems of a weight file are listed before "… and N more".
    static let shownProblems = 20

    /// Why `values` cannot be the tensor `name`, or nil: every value must be finite, and a
    /// running variance must not be negative (batch-norm folding takes its square root).
    public static func valueProblem(_ name: String, _ values: [Float], isVariance: Bool) -> String? {
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            return "tensor '\(name)' holds \(values[bad]) at index \(bad); weights must be finite"
        }
        if isVariance, let bad = values.firstIndex(where: { $0 < 0 }) {
            return "tensor '\(name)' holds the negative variance \(values[bad]) at index \(bad)"
        }
        return nil
    }

    /// The first NaN or infinity, by tensor name (in name order) and index, if there is one.
    public func firstNonFinite() -> (name: String, index: Int, value: Float)? {
        for name in tensors.keys.sorted() {
            if let values = tensors[name], let bad = values.firstIndex(where: { !$0.isFinite }) { return (name, bad, values[bad]) }
        }
        return nil
    }

    /// The raw vector in the order the generated code expects.
    public func rawVector(for layout: [(name: String, count: Int)]) throws -> [Float] {
        var raw: [Float] = []
        raw.reserveCapacity(layout.reduce(0) { $0 + $1.count })
        for (name, count) in layout {
            guard let values = tensors[name], values.count == count else { throw RuntimeError("no value of \(count) floats for '\(name)'") }
            raw += values
        }
        return raw
    }

    /// The `__metadata__` format of weight files resnetc writes: how `run --restart` tells its own
    /// weights from a user's file of the same name. Other readers ignore it.
    public static let weightsFormat = "resnetc-weights"

    /// Writes the values as a safetensors state dict in graph order, with `data` (how its inputs
    /// were prepared, its class names) in the metadata when given.
    public func write(safetensors path: String, for graph: Graph, data: DataDescription? = nil) throws {
        let list = try graph.parameters.map { id in
            let node = graph[id]
            guard let values = tensors[node.name], values.count == node.type.elementCount else {
                throw RuntimeError("cannot write \(path): no value of \(node.type.elementCount) floats for '\(node.name)'")
            }
            return (name: node.name, shape: node.type.dims, values: values)
        }
        var metadata = ["format": Self.weightsFormat]
        if let data { metadata[DataDescription.metadataKey] = data.json }
        try AtomicFile.write(try SafeTensors.serialize(list, metadata: metadata), to: path)
    }
}
