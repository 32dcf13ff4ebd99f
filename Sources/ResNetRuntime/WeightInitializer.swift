import ResNetIR
import ResNetSpec

/// Draws fresh weights as torchvision does, from a seed: He-normal convolutions (scaled by fan
/// in or out as the spec says), BN γ = 1 and β = 0 (γ = 0 for each block's last BN when the spec
/// asks), running mean 0 and variance 1, and PyTorch's default uniform(±1/√fan_in) for the FC.
public enum WeightInitializer {
    public static func initialize(_ graph: Graph, spec: ModelSpec, seed: Int) -> ParameterValues {
        var rng = SplitMix64(seed: UInt64(truncatingIfNeeded: seed))
        let zeroScale = spec.initialization.zeroInitLastBatchNorm ? lastBatchNormScales(graph) : []
        var tensors: [String: [Float]] = [:]
        for id in graph.parameters {
            let node = graph[id]
            let dims = node.type.dims
            let count = node.type.elementCount
            guard case .parameter(let kind) = node.op else { continue }
            switch kind {
            case .weight where dims.count == 4:
                let fan = spec.initialization.fanMode == .fanOut ? dims[0] * dims[2] * dims[3] : dims[1] * dims[2] * dims[3]
                let std = (2.0 / Double(fan)).squareRoot()
                tensors[node.name] = (0..<count).map { _ in Float(rng.nextNormal() * std) }
            case .weight, .bias:
                let fanIn = graph.nodes.first { $0.op == .linear && $0.inputs.contains(id) }
                    .map { graph[$0.inputs[1]].type.dims[1] } ?? max(1, dims.last ?? 1)
                let bound = 1 / Double(fanIn).squareRoot()
                tensors[node.name] = (0..<count).map { _ in Float((rng.nextUnit() * 2 - 1) * bound) }
            case .scale:
                tensors[node.name] = Array(repeating: zeroScale.contains(id) ? 0 : 1, count: count)
            case .shift, .runningMean:
                tensors[node.name] = Array(repeating: 0, count: count)
            case .runningVariance:
                tensors[node.name] = Array(repeating: 1, count: count)
            }
        }
        return ParameterValues(tensors: tensors)
    }

    /// The γ of each residual branch's last BN: the batch norm that is an add's first operand.
    static func lastBatchNormScales(_ graph: Graph) -> Set<NodeID> {
        Set(graph.nodes.compactMap { node -> NodeID? in
            guard node.op == .add, case .batchNorm = graph[node.inputs[0]].op else { return nil }
            return graph[node.inputs[0]].inputs[1]
        })
    }
}

/// SplitMix64: a small, fast, seedable generator, so a seed gives the same weights everywhere.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal by Box–Muller.
    public mutating func nextNormal() -> Double {
        let u1 = max(nextUnit(), 0x1.0p-60), u2 = nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
