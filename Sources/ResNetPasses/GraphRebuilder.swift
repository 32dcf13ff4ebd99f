import ResNetIR

/// Copies a graph node by node into a new one, remapping operands, so a pass can drop, replace
/// and reorder nodes and still hand on a topologically ordered, verified graph.
struct GraphRebuilder {
    let old: Graph
    private(set) var new: Graph
    private var map: [NodeID?]

    init(_ old: Graph) {
        self.old = old
        new = Graph(name: old.name)
        map = Array(repeating: nil, count: old.nodes.count)
    }

    /// The new id of an old node that has been emitted.
    func mapped(_ id: NodeID) -> NodeID {
        guard let new = map[id.index] else { preconditionFailure("\(id) used before it was emitted") }
        return new
    }

    func isEmitted(_ id: NodeID) -> Bool { map[id.index] != nil }

    /// Copies an old node unchanged but for its operands' new ids.
    @discardableResult
    mutating func copy(_ id: NodeID) -> NodeID {
        var node = old[id]
        node.inputs = node.inputs.map(mapped)
        return emit(node, standingFor: id)
    }

    /// Emits `node` (operands already in new ids) as the value of old node `id`.
    @discardableResult
    mutating func emit(_ node: Node, standingFor id: NodeID) -> NodeID {
        let newID = new.append(node)
        map[id.index] = newID
        return newID
    }

    /// Appends a node with no counterpart in the old graph (operands in new ids).
    mutating func add(_ op: Op, _ inputs: [NodeID], name: String, origin: String?) throws(ShapeError) -> NodeID {
        try new.add(op, inputs, name: name, origin: origin)
    }

    /// The new graph with outputs remapped, verified.
    func finish() throws(ShapeError) -> Graph {
        var graph = new
        graph.outputs = old.outputs.map(mapped)
        try Verifier.verify(graph)
        return graph
    }
}
