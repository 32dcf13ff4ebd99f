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
            if let bad = entry.values.firstIndex(where: { !$0.isFinite }) {
                problems.append("tensor '\(name)' holds \(entry.values[bad]) at index \(bad); weights must be finite")
                continue
            }
            tensors[name] = entry.values
        }
        for name in entries.keys.sorted() where expected[name] == nil && !name.hasSuffix("num_batches_tracked") {
            let suggestion = NearestName.suggestion(for: name, among: Array(expected.keys)).map { "; did you mean '\($0)'?" } ?? ""
            problems.append("unknown tensor '\(name)'\(suggestion)")
        }
        guard problems.isEmpty else {
            throw RuntimeError("\(path) does not fit model '\(graph.name)':\n" + problems.map { "  " + $0 }.joined(separator: "\n"))
        }
        return ParameterValues(tensors: tensors)
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

    /// Writes the values as a safetensors state dict in graph order.
    public func write(safetensors path: String, for graph: Graph) throws {
        let list = graph.parameters.map { (name: graph[$0].name, shape: graph[$0].type.dims, values: tensors[graph[$0].name] ?? []) }
        try AtomicFile.write(try SafeTensors.serialize(list), to: path)
    }
}
