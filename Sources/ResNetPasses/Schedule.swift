import ResNetIR

/// Fixes the execution order: a depth-first post-order from the outputs, operands in order, so
/// each value is computed just before it is first needed and dies as early as it can. The
/// generated code runs the nodes in array order, and `PlanMemory` plans over this order.
///
/// Requires: a graph without dead nodes. Produces: the same nodes, renumbered in schedule order.
/// Keeps: every node and edge.
public enum Schedule {
    public static func run(_ graph: Graph) throws(ShapeError) -> Graph {
        var order: [NodeID] = []
        var visited = Array(repeating: false, count: graph.nodes.count)
        // Iterative post-order: (node, whether its operands are done).
        var stack: [(NodeID, Bool)] = graph.outputs.reversed().map { ($0, false) }
        while let (id, expanded) = stack.popLast() {
            if expanded {
                order.append(id)
                continue
            }
            guard !visited[id.index] else { continue }
            visited[id.index] = true
            stack.append((id, true))
            for input in graph[id].inputs.reversed() where !visited[input.index] {
                stack.append((input, false))
            }
        }
        var rebuilder = GraphRebuilder(graph)
        for id in order { rebuilder.copy(id) }
        return try rebuilder.finish()
    }
}
