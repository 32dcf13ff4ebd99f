import Foundation
import ResNetIR

/// Everything needed to continue a run exactly: parameters and running statistics (by their
/// state-dict names), the SGD momentum of each trainable tensor (`momentum.<name>`), the number
/// of iterations done, the seed and the hash of the graph it belongs to. One safetensors file,
/// written atomically. No RNG state is stored: every batch is drawn from (seed, epoch, batch)
/// (see `BatchLoader`), so the iteration count says where the random stream stands.
public struct Checkpoint: Sendable {
    public static let momentumPrefix = "momentum."

    public var parameters: ParameterValues
    public var momentum: [String: [Float]]
    public var iteration: Int
    public var seed: UInt64
    /// SHA-256 of the training graph's text: a checkpoint only resumes the network it came from.
    public var graphHash: String

    public init(parameters: ParameterValues, momentum: [String: [Float]], iteration: Int, seed: UInt64, graphHash: String) {
        self.parameters = parameters
        self.momentum = momentum
        self.iteration = iteration
        self.seed = seed
        self.graphHash = graphHash
    }

    public func write(to path: String, graph: Graph) throws {
        var tensors: [(name: String, shape: [Int], values: [Float])] = []
        for id in graph.parameters {
            let node = graph[id]
            guard let values = parameters.tensors[node.name] else { throw RuntimeError("checkpoint: no value for '\(node.name)'") }
            tensors.append((node.name, node.type.dims, values))
            if let velocity = momentum[node.name] { tensors.append((Self.momentumPrefix + node.name, node.type.dims, velocity)) }
        }
        let metadata = ["format": "resnetc-checkpoint-1", "iteration": String(iteration), "seed": String(seed), "graph_sha256": graphHash]
        try AtomicFile.write(try SafeTensors.serialize(tensors, metadata: metadata), to: path)
    }

    /// Reads a checkpoint and checks that it belongs to `graph` (same hash, every tensor present).
    public static func read(_ path: String, graph: Graph, graphHash: String) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: path) else { throw RuntimeError("cannot read checkpoint '\(path)'") }
        let metadata = try SafeTensors.metadata(data, file: path)
        guard metadata["format"] == "resnetc-checkpoint-1", let iteration = metadata["iteration"].flatMap(Int.init),
              let seed = metadata["seed"].flatMap(UInt64.init) else {
            throw RuntimeError("\(path) is not a resnetc checkpoint (its metadata lacks format, iteration or seed)")
        }
        guard metadata["graph_sha256"] == graphHash else {
            throw RuntimeError("\(path) belongs to a different network (graph hash \(metadata["graph_sha256"] ?? "none"), this one \(graphHash)); "
                               + "resume with the spec and --set overrides that wrote it")
        }
        let entries = try SafeTensors.parse(data, file: path)
        var tensors: [String: [Float]] = [:], momentum: [String: [Float]] = [:]
        for id in graph.parameters {
            let name = graph[id].name
            guard let entry = entries[name], entry.shape == graph[id].type.dims else {
                throw RuntimeError("\(path): tensor '\(name)' is missing or misshapen")
            }
            tensors[name] = entry.values
            if let velocity = entries[momentumPrefix + name] { momentum[name] = velocity.values }
        }
        return Checkpoint(parameters: ParameterValues(tensors: tensors), momentum: momentum, iteration: iteration, seed: seed, graphHash: graphHash)
    }
}
