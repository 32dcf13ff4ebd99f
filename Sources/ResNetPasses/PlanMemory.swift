import ResNetIR

/// Places every batched tensor (the blocked input copy and each kernel's output) in one arena.
///
/// Liveness runs over the schedule (array order): a buffer lives from the node that writes it to
/// its last reader, and outputs live to the end. A node may overwrite an operand that dies at it
/// when that is safe element by element: ReLU and add in place of their first operand, and a
/// convolution's residual epilogue in place of the residual (never of its input, which the
/// convolution reads around each output pixel). The rest is greedy by size: largest buffers
/// first, each at the lowest offset that no buffer alive at the same time occupies.
///
/// Requires: a scheduled graph. Produces: a `MemoryPlan`. Keeps: the graph unchanged.
public enum PlanMemory {
    public static func run(_ graph: Graph) -> MemoryPlan {
        var lastUse: [Int] = graph.nodes.indices.map { $0 }
        for id in graph.ids {
            for input in graph[id].inputs { lastUse[input.index] = max(lastUse[input.index], id.index) }
        }
        for output in graph.outputs { lastUse[output.index] = graph.nodes.count }

        let planned = graph.ids.filter { graph[$0].type.batched && graph[$0].op != .labels }
        /// Each planned node's group: the chain of in-place buffers it shares storage with.
        var group: [NodeID: NodeID] = [:]
        var inPlaceOf: [NodeID: NodeID] = [:]
        for id in planned {
            group[id] = id
            if let operand = inPlaceOperand(id, graph), lastUse[operand.index] == id.index,
               let root = group[operand], TensorLayout.storedBytes(graph[operand].type) == TensorLayout.storedBytes(graph[id].type) {
                group[id] = root
                inPlaceOf[id] = operand
            }
        }
        /// Per group: live range and size.
        var ranges: [NodeID: (first: Int, last: Int, size: Int)] = [:]
        for id in planned {
            let root = group[id]!
            let size = TensorLayout.storedBytes(graph[id].type)
            let range = ranges[root] ?? (id.index, id.index, size)
            ranges[root] = (min(range.first, id.index), max(range.last, lastUse[id.index]), max(range.size, size))
        }
        let placementOrder = ranges.keys.sorted {
            (ranges[$0]!.size, -$0.index) > (ranges[$1]!.size, -$1.index)
        }
        var offsets: [NodeID: Int] = [:]
        var arena = 0
        for root in placementOrder {
            let range = ranges[root]!
            let conflicts = offsets.compactMap { other, offset -> (Int, Int)? in
                let o = ranges[other]!
                return o.first <= range.last && range.first <= o.last ? (offset, offset + o.size) : nil
            }.sorted { $0.0 < $1.0 }
            var candidate = 0
            for (start, end) in conflicts {
                if candidate + range.size <= start { break }
                candidate = max(candidate, end)
            }
            offsets[root] = candidate
            arena = max(arena, candidate + range.size)
        }
        var buffers: [NodeID: MemoryPlan.Buffer] = [:]
        for id in planned {
            buffers[id] = MemoryPlan.Buffer(node: id, offset: offsets[group[id]!]!, size: TensorLayout.storedBytes(graph[id].type),
                                            firstUse: id.index, lastUse: lastUse[id.index], inPlaceOf: inPlaceOf[id])
        }
        let unplanned = planned.reduce(0) { $0 + TensorLayout.storedBytes(graph[$1].type) }
        return MemoryPlan(buffers: buffers, arenaBytesPerImage: arena, unplannedBytesPerImage: unplanned)
    }

    /// The operand a node may overwrite element by element, if its op allows one.
    static func inPlaceOperand(_ id: NodeID, _ graph: Graph) -> NodeID? {
        let node = graph[id]
        switch node.op {
        case .relu, .add:
            return node.inputs[0]
        case .conv2d(let conv) where conv.epilogue.residual:
            let residual = node.inputs.last!
            return residual == node.inputs[0] ? nil : residual
        default:
            return nil
        }
    }
}
