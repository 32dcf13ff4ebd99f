import ResNetIR

/// Removes nodes no output depends on, and renumbers the rest in their original order.
///
/// Requires: any verified graph. Produces: a graph where every node reaches an output.
/// Keeps: the relative order of the surviving nodes.
public enum EliminateDeadNodes {
    public static func run(_ graph: Graph) throws(ShapeError) -> Graph {
        var live = Array(repeating: false, count: graph.nodes.count)
        var stack = graph.outputs
        while let id = stack.popLast() {
            guard !live[id.index] else { continue }
            live[id.index] = true
            stack += graph[id].inputs
        }
        var rebuilder = GraphRebuilder(graph)
        for id in graph.ids where live[id.index] { rebuilder.copy(id) }
        return try rebuilder.finish()
    }
}
