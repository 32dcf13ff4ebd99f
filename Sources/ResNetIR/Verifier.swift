/// Checks a graph's invariants: operands come before their users, every type is what its op's
/// typing rule gives, every tensor (leaves too) fits `SizeLimits.tensorElements`, names are
/// unique, outputs exist. Passes run it after every step in debug
/// builds, so a pass that breaks the graph fails where it breaks it.
public enum Verifier {
    public static func verify(_ graph: Graph) throws(ShapeError) {
        var names = Set<String>()
        for id in graph.ids {
            let node = graph[id]
            guard names.insert(node.name).inserted else {
                throw ShapeError(name: node.name, message: "\(id) reuses the name '\(node.name)'")
            }
            for input in node.inputs where !(input.index >= 0 && input < id) {
                throw ShapeError(name: node.name, message: "\(id) reads \(input), which does not come before it")
            }
            if node.op.isLeaf {
                guard node.inputs.isEmpty else { throw ShapeError(name: node.name, message: "leaf \(id) has operands") }
                try ShapeInference.checkSize(node.type, name: node.name)
                continue
            }
            let inferred = try ShapeInference.resultType(of: node.op, operands: node.inputs.map { graph[$0].type }, name: node.name)
            guard inferred == node.type else {
                throw ShapeError(name: node.name, message: "\(id) is typed \(node.type) but its op gives \(inferred)")
            }
        }
        for output in graph.outputs where !graph.nodes.indices.contains(output.index) {
            throw ShapeError(name: graph.name, message: "output \(output) does not exist")
        }
    }
}
