import ResNetIR

/// Fuses the residual add and the ReLU that follow a convolution into its epilogue, so each
/// block's last convolution computes conv + bias + shortcut + ReLU in one pass over memory.
///
/// Requires: a graph in which `FoldBatchNorm` has run (inference) or the ops to fuse directly
/// follow the convolution. Produces: convolutions with `Epilogue.residual` / `.relu` set, placed
/// where the last absorbed node stood, so the shortcut is computed before it. Keeps: anything
/// whose intermediate result has another user, and a ReLU that precedes an add (the epilogue
/// order is bias, add, ReLU).
public enum FuseEpilogues {
    public static func run(_ graph: Graph) throws(ShapeError) -> Graph {
        let users = graph.users()
        /// For each convolution that absorbs nodes: the epilogue it ends with, its residual
        /// operand, and the last absorbed node, whose place the fused node takes.
        var fusions: [NodeID: (epilogue: Epilogue, residual: NodeID?, anchor: NodeID)] = [:]
        var absorbed = Set<NodeID>()
        for id in graph.ids {
            guard case .conv2d(let conv) = graph[id].op, !conv.epilogue.residual, !conv.epilogue.relu else { continue }
            var epilogue = conv.epilogue
            var residual: NodeID?
            var anchor = id
            if let add = graph.soleUser(of: anchor, users: users), graph[add].op == .add,
               !absorbed.contains(add), graph[add].inputs[0] != graph[add].inputs[1] {
                residual = graph[add].inputs[0] == anchor ? graph[add].inputs[1] : graph[add].inputs[0]
                epilogue.residual = true
                anchor = add
            }
            if let relu = graph.soleUser(of: anchor, users: users), graph[relu].op == .relu {
                epilogue.relu = true
                anchor = relu
            }
            guard anchor != id else { continue }
            fusions[id] = (epilogue, residual, anchor)
            var walk = id
            while walk != anchor {
                walk = users[walk.index][0]
                absorbed.insert(walk)
            }
        }
        let fusedAt = Dictionary(uniqueKeysWithValues: fusions.map { ($0.value.anchor, $0.key) })
        var rebuilder = GraphRebuilder(graph)
        for id in graph.ids {
            if fusions[id] != nil { continue }
            guard let convID = fusedAt[id] else {
                if !absorbed.contains(id) { rebuilder.copy(id) }
                continue
            }
            let fusion = fusions[convID]!
            var conv = graph[convID]
            guard case .conv2d(var attributes) = conv.op else { continue }
            attributes.epilogue = fusion.epilogue
            conv.op = .conv2d(attributes)
            conv.inputs = conv.inputs.map(rebuilder.mapped) + (fusion.residual.map { [rebuilder.mapped($0)] } ?? [])
            conv.type = graph[id].type
            rebuilder.emit(conv, standingFor: id)
        }
        return try rebuilder.finish()
    }
}
