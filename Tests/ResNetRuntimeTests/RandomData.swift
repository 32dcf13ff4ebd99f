import ResNetIR
import ResNetReference
import ResNetRuntime

/// Random parameters and inputs for differential tests: BN statistics far from the identity so
/// that folding is really exercised.
enum RandomData {
    static func parameters(_ graph: Graph, seed: UInt64) -> [String: Tensor] {
        var rng = SplitMix64(seed: seed)
        var tensors: [String: Tensor] = [:]
        for id in graph.parameters {
            let node = graph[id]
            guard case .parameter(let kind) = node.op else { continue }
            let count = node.type.elementCount
            let fan = node.type.dims.count > 1 ? node.type.dims.dropFirst().reduce(1, *) : 1
            let values: [Float] = (0..<count).map { _ in
                switch kind {
                case .weight: return Float(rng.nextNormal() * (2.0 / Double(fan)).squareRoot())
                case .runningVariance: return Float(0.5 + rng.nextUnit())
                case .scale: return Float(0.5 + rng.nextUnit())
                default: return Float(rng.nextNormal() * 0.3)
                }
            }
            tensors[node.name] = Tensor(shape: node.type.dims, data: values)
        }
        return tensors
    }

    static func input(_ graph: Graph, batch: Int, seed: UInt64) -> Tensor {
        var rng = SplitMix64(seed: seed)
        let dims = graph.nodes.first { $0.op == .input }!.type.dims
        let count = batch * dims.reduce(1, *)
        return Tensor(shape: [batch] + dims, data: (0..<count).map { _ in Float(rng.nextNormal()) })
    }

    /// max |a − b| / max |b|: the error measure of the issue (relative to the output's scale).
    static func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        let scale = b.map { abs(Double($0)) }.max() ?? 0
        let diff = zip(a, b).map { abs(Double($0) - Double($1)) }.max() ?? 0
        return diff / max(scale, 1e-30)
    }
}
