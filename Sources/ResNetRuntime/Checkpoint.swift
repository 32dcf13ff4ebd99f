import Foundation
import ResNetDiagnostics
import ResNetIR

/// Everything needed to continue a run exactly: parameters and running statistics (by their
/// state-dict names), the SGD momentum of each of them (`momentum.<name>`), the number
/// of iterations done, the recipe that produced them, the hash of the graph it belongs to, and
/// the metrics rows written so far. One safetensors file, written atomically, so a row and the
/// state it describes are committed together. No RNG state is stored: every batch is drawn from
/// (seed, epoch, batch) (see `BatchLoader`), so the recipe's seed and the iteration count say
/// where the random stream stands.
public struct Checkpoint: Sendable {
    public static let momentumPrefix = "momentum."
    public static let format = "resnetc-checkpoint-2"

    public var parameters: ParameterValues
    public var momentum: [String: [Float]]
    public var iteration: Int
    /// What must be equal for a resumed run to continue this one exactly (`TrainingRecipe`).
    public var recipe: TrainingRecipe
    /// SHA-256 of the training graph's text: a checkpoint only resumes the network it came from.
    public var graphHash: String
    /// `metrics.csv` as it stood when this checkpoint was written.
    public var metrics: MetricsLog

    public init(parameters: ParameterValues, momentum: [String: [Float]], iteration: Int, recipe: TrainingRecipe,
                graphHash: String, metrics: MetricsLog) {
        self.parameters = parameters
        self.momentum = momentum
        self.iteration = iteration
        self.recipe = recipe
        self.graphHash = graphHash
        self.metrics = metrics
    }

    public func write(to path: String, graph: Graph) throws {
        var tensors: [(name: String, shape: [Int], values: [Float])] = []
        for id in graph.parameters {
            let node = graph[id]
            guard let values = parameters.tensors[node.name] else { throw RuntimeError("checkpoint: no value for '\(node.name)'") }
            guard let velocity = momentum[node.name] else { throw RuntimeError("checkpoint: no momentum for '\(node.name)'") }
            tensors.append((node.name, node.type.dims, values))
            tensors.append((Self.momentumPrefix + node.name, node.type.dims, velocity))
        }
        let metadata = ["format": Self.format, "iteration": String(iteration), "recipe": recipe.serialized,
                        "graph_sha256": graphHash, "metrics_csv": metrics.csv]
        try AtomicFile.write(try SafeTensors.serialize(tensors, metadata: metadata), to: path)
    }

    /// Reads a checkpoint and checks everything in it before any of it is used: it belongs to
    /// `graph` (same hash), every tensor and momentum has the parameter's exact shape, nothing
    /// unknown is there, every value is finite, and its metadata is well formed.
    public static func read(_ path: String, graph: Graph, graphHash: String) throws -> Checkpoint {
        let data = try FileBytes.read(path, what: "checkpoint")
        let metadata = try SafeTensors.metadata(data, file: path)
        guard metadata["format"] == format else {
            throw RuntimeError("\(path) is not a \(format) file (its metadata says format \(metadata["format"].map { "'\($0)'" } ?? "nothing"))")
        }
        guard let iteration = metadata["iteration"].flatMap(Int.init), iteration >= 0 else {
            throw RuntimeError("\(path): metadata 'iteration' is \(metadata["iteration"].map { "'\($0)'" } ?? "missing"); expected a count of iterations ≥ 0")
        }
        guard metadata["graph_sha256"] == graphHash else {
            throw RuntimeError("\(path) belongs to a different network (graph hash \(metadata["graph_sha256"] ?? "none"), this one \(graphHash)); "
                               + "resume with the spec and --set overrides that wrote it")
        }
        let recipe = try TrainingRecipe(serialized: metadata["recipe"] ?? "", file: path)
        let metrics = try MetricsLog(csv: metadata["metrics_csv"] ?? "", file: "\(path) (metadata 'metrics_csv')")
        let entries = try SafeTensors.parse(data, file: path)
        var tensors: [String: [Float]] = [:], momentum: [String: [Float]] = [:]
        var known: Set<String> = []
        for id in graph.parameters {
            let name = graph[id].name, dims = graph[id].type.dims
            for stored in [name, momentumPrefix + name] {
                known.insert(stored)
                guard let entry = entries[stored] else {
                    throw RuntimeError("\(path): tensor '\(stored)' is missing; a checkpoint holds every parameter and its momentum")
                }
                guard entry.shape == dims, entry.values.count == graph[id].type.elementCount else {
                    throw RuntimeError("\(path): tensor '\(stored)' has shape \(entry.shape); the network's '\(name)' is \(dims)")
                }
                if let problem = ParameterValues.valueProblem(stored, entry.values, isVariance: stored == name && name.hasSuffix("running_var")) {
                    throw RuntimeError("\(path): \(problem)")
                }
                if stored == name { tensors[name] = entry.values } else { momentum[name] = entry.values }
            }
        }
        if let unknown = entries.keys.sorted().first(where: { !known.contains($0) }) {
            throw RuntimeError("\(path): tensor '\(unknown)' is not a parameter, statistic or momentum of this network")
        }
        return Checkpoint(parameters: ParameterValues(tensors: tensors), momentum: momentum, iteration: iteration, recipe: recipe,
                          graphHash: graphHash, metrics: metrics)
    }
}
