import ResNetIR

/// Places every batched tensor (the blocked input copy and each kernel's output) in one arena.
///
/// Liveness runs over the schedule (array order): a buffer lives from the node that writes it to
/// its last reader, and outputs live to the end. A node may overwrite an operand that dies at it
/// when that is safe element by element: ReLU and add in place of their first operand, and a
/// convolution's residual epilogue in place of the residual (never of its input, which the
/// convolution reads around each output pixel). The rest is greedy by size: largest buffers
/// first, each at the lowest offset that no buffer alive at the same time occupies, found with
/// `ArenaOccupancy` in O(log n) byte-set lookups, so planning stays near-linear in depth.
///
/// Requires: a scheduled graph. Produces: a `MemoryPlan`. Keeps: the graph unchanged.
public enum PlanMemory {
    public static func run(_ graph: Graph, layout: TensorLayout) -> MemoryPlan {
        let count = graph.nodes.count
        var lastUse = Array(0..<count)
        for id in graph.ids {
            for input in graph[id].inputs { lastUse[input.index] = max(lastUse[input.index], id.index) }
        }
        for output in graph.outputs { lastUse[output.index] = count }

        let planned = graph.ids.filter { graph[$0].type.batched && graph[$0].op != .labels }
        var size = Array(repeating: 0, count: count)
        for id in planned { size[id.index] = layout.storedBytes(graph[id].type) }
        /// Each planned node's group, named by its first node: the chain of in-place buffers it
        /// shares storage with.
        var group = Array(repeating: -1, count: count)
        var inPlaceOf: [NodeID: NodeID] = [:]
        for id in planned {
            group[id.index] = id.index
            if let operand = inPlaceOperand(id, graph), lastUse[operand.index] == id.index,
               group[operand.index] >= 0, size[operand.index] == size[id.index] {
                group[id.index] = group[operand.index]
                inPlaceOf[id] = operand
            }
        }
        /// Per group, indexed by its first node: live range and size.
        var first = Array(repeating: 0, count: count), last = first, groupSize = first
        var groups: [Int] = []
        for id in planned {
            let root = group[id.index]
            if root == id.index {
                groups.append(root)
                (first[root], last[root], groupSize[root]) = (root, lastUse[root], size[root])
            } else {
                last[root] = max(last[root], lastUse[id.index])
                groupSize[root] = max(groupSize[root], size[id.index])
            }
        }
        let placementOrder = groups.sorted { (groupSize[$0], -$0) > (groupSize[$1], -$1) }
        var occupancy = ArenaOccupancy(steps: count + 1)
        var offset = Array(repeating: 0, count: count)
        var arena = 0
        for root in placementOrder {
            let steps = first[root]...last[root]
            let at = occupancy.lowestFreeOffset(size: groupSize[root], during: steps)
            occupancy.occupy(at..<at + groupSize[root], during: steps)
            offset[root] = at
            arena = max(arena, at + groupSize[root])
        }
        var buffers: [NodeID: MemoryPlan.Buffer] = [:]
        for id in planned {
            buffers[id] = MemoryPlan.Buffer(node: id, offset: offset[group[id.index]], size: size[id.index],
                                            firstUse: id.index, lastUse: lastUse[id.index], inPlaceOf: inPlaceOf[id])
        }
        let unplanned = planned.reduce(0) { $0 + size[$1.index] }
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
