/// Names a node by its position in `Graph.nodes`; printed `%12`.
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var index: Int

    public init(_ index: Int) { self.index = index }

    public static func < (a: NodeID, b: NodeID) -> Bool { a.index < b.index }
    public var description: String { "%\(index)" }
}

/// The one node type: an op, its operands, the type it produces, a torchvision-style name
/// (`layer2.0.conv1`, `layer2.0.downsample.0.weight`) and the spec key it came from.
public struct Node: Sendable, Equatable {
    public var op: Op
    public var inputs: [NodeID]
    public var type: TensorType
    public var name: String
    /// The spec key path this node was lowered from (`stages[1]`), for located errors.
    public var origin: String?

    public init(op: Op, inputs: [NodeID], type: TensorType, name: String, origin: String? = nil) {
        self.op = op
        self.inputs = inputs
        self.type = type
        self.name = name
        self.origin = origin
    }
}

/// A static dataflow graph. Nodes are kept in a topological order (operands before users), so
/// the array order is a valid schedule; `outputs` lists what the model returns.
public struct Graph: Sendable, Equatable {
    public var name: String
    public var nodes: [Node]
    public var outputs: [NodeID]

    public init(name: String, nodes: [Node] = [], outputs: [NodeID] = []) {
        self.name = name
        self.nodes = nodes
        self.outputs = outputs
    }

    public subscript(id: NodeID) -> Node {
        get { nodes[id.index] }
        set { nodes[id.index] = newValue }
    }

    public var ids: [NodeID] { nodes.indices.map(NodeID.init) }

    /// Appends a node whose type is inferred from its operands.
    @discardableResult
    public mutating func add(_ op: Op, _ inputs: [NodeID], name: String, origin: String? = nil) throws(ShapeError) -> NodeID {
        let type = try ShapeInference.resultType(of: op, operands: inputs.map { self[$0].type }, name: name)
        return append(Node(op: op, inputs: inputs, type: type, name: name, origin: origin))
    }

    /// Appends a leaf node (input, labels, parameter) of a given type.
    @discardableResult
    public mutating func append(_ node: Node) -> NodeID {
        nodes.append(node)
        return NodeID(nodes.count - 1)
    }

    /// For each node, the nodes that read it.
    public func users() -> [[NodeID]] {
        var users = Array(repeating: [NodeID](), count: nodes.count)
        for id in ids {
            for input in self[id].inputs { users[input.index].append(id) }
        }
        return users
    }

    /// The one node that reads `id`, if exactly one does and `id` is not also an output: the
    /// condition for fusing `id` into its reader without losing a value someone else sees.
    public func soleUser(of id: NodeID, users: [[NodeID]]) -> NodeID? {
        guard users[id.index].count == 1, !outputs.contains(id) else { return nil }
        return users[id.index][0]
    }

    /// Parameter nodes in graph order: the layout of the weight file and of the parameter region.
    public var parameters: [NodeID] {
        ids.filter { if case .parameter = self[$0].op { return true } else { return false } }
    }
}
