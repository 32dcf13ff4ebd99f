import ResNetIR

/// Folds each inference batch norm into the convolution that feeds it:
/// conv(x, w) → bn(γ, β, mean, var) becomes conv_bias(x, w·γ/√(var+ε), β − mean·γ/√(var+ε)).
///
/// Requires: a forward graph. Produces: the folded weight and bias as parameter-only nodes
/// (`fold_bn_weight`, `fold_bn_bias`) that the generated code evaluates once, when it packs the
/// weights. Keeps: a batch norm whose convolution has other users or already has a bias.
/// Inference only: training needs the batch statistics.
public enum FoldBatchNorm {
    public static func run(_ graph: Graph) throws(ShapeError) -> Graph {
        let users = graph.users()
        /// Batch norms to fold, keyed by the convolution they absorb.
        var foldable: [NodeID: NodeID] = [:]
        for id in graph.ids {
            guard case .batchNorm = graph[id].op else { continue }
            let conv = graph[id].inputs[0]
            if case .conv2d(let c) = graph[conv].op, c.epilogue == Epilogue(), graph.soleUser(of: conv, users: users) == id {
                foldable[conv] = id
            }
        }
        var rebuilder = GraphRebuilder(graph)
        let folded = Set(foldable.values)
        for id in graph.ids {
            if foldable[id] != nil { continue }
            guard folded.contains(id), case .batchNorm(let bn) = graph[id].op else {
                rebuilder.copy(id)
                continue
            }
            let convID = graph[id].inputs[0]
            let conv = graph[convID]
            guard case .conv2d(var attributes) = conv.op else { continue }
            let (gamma, beta, mean, variance) = (graph[id].inputs[1], graph[id].inputs[2], graph[id].inputs[3], graph[id].inputs[4])
            let weight = try rebuilder.add(.foldBatchNormWeight(epsilon: bn.epsilon),
                                           [conv.inputs[1], gamma, variance].map(rebuilder.mapped),
                                           name: "\(conv.name).weight+\(graph[id].name)", origin: conv.origin)
            let bias = try rebuilder.add(.foldBatchNormBias(epsilon: bn.epsilon),
                                         [gamma, beta, mean, variance].map(rebuilder.mapped),
                                         name: "\(graph[id].name).folded_bias", origin: conv.origin)
            attributes.epilogue.bias = true
            rebuilder.emit(Node(op: .conv2d(attributes), inputs: [rebuilder.mapped(conv.inputs[0]), weight, bias],
                                type: graph[id].type, name: conv.name, origin: conv.origin), standingFor: id)
        }
        return try rebuilder.finish()
    }
}
