/// Counts what `resnetc summary` reports per node: trainable parameters read, multiply-adds
/// (convolutions and FC only, as torchvision and the paper count them) and bytes produced.
/// Counts saturate at `Int.max` instead of trapping; the front end keeps them far below.
public enum CostModel {
    /// Multiply-adds per image.
    public static func multiplyAdds(_ id: NodeID, in graph: Graph) -> Int {
        let node = graph[id]
        switch node.op {
        case .conv2d(let conv):
            let inChannels = graph[node.inputs[0]].type.dims[0]
            return SizeLimits.product([node.type.elementCount, inChannels, conv.kernel, conv.kernel])
        case .linear:
            return graph[node.inputs[1]].type.elementCount
        default:
            return 0
        }
    }

    /// Trainable parameters this node reads directly.
    public static func parameterCount(_ id: NodeID, in graph: Graph) -> Int {
        graph[id].inputs.reduce(0) { total, input in
            if case .parameter(let kind) = graph[input].op, kind.isTrainable { return SizeLimits.sum(total, graph[input].type.elementCount) }
            return total
        }
    }

    /// Non-trainable state (batch-norm running statistics) this node reads directly.
    public static func bufferCount(_ id: NodeID, in graph: Graph) -> Int {
        graph[id].inputs.reduce(0) { total, input in
            if case .parameter(let kind) = graph[input].op, !kind.isTrainable { return SizeLimits.sum(total, graph[input].type.elementCount) }
            return total
        }
    }
}
