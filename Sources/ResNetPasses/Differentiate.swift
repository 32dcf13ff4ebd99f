import ResNetIR

/// Builds the backward graph of a lowered forward graph, reverse mode: every op's gradient rule
/// becomes nodes (IR.md lists them), and a value read by several nodes sums their gradients.
///
/// A ReLU whose input is a batch norm read by nothing else is differentiated together with that
/// batch norm: its mask goes into the batch norm's backward ops (`relu: true`), so no
/// `relu_backward` pass over memory is made and no masked gradient is stored. The batch norm's
/// input gradient reads its dγ and dβ, which are the reductions it needs.
///
/// Requires: a forward graph lowered with its loss (outputs: logits, loss), not yet fused or
/// folded. Produces: a `TrainingGraph` whose outputs are the logits, the loss, every trainable
/// parameter's gradient and every running statistic's update, in that order. Keeps: the
/// forward nodes' order and names; batch norms become `batch_norm_train`.
public enum Differentiate {
    public static func run(_ forward: Graph) throws(ShapeError) -> TrainingGraph {
        guard forward.outputs.count == 2, case .softmaxCrossEntropy = forward[forward.outputs[1]].op else {
            throw ShapeError(name: forward.name, message: "differentiation needs the loss: lower the spec with withLoss")
        }
        var g = Graph(name: forward.name)
        var map: [NodeID: NodeID] = [:]
        var runningStatistics: [(state: NodeID, update: NodeID)] = []

        // Forward pass, batch norm on batch statistics.
        for id in forward.ids {
            let node = forward[id]
            let inputs = node.inputs.map { map[$0]! }
            switch node.op {
            case .batchNorm(let bn):
                map[id] = try g.add(.batchNormTraining(bn), Array(inputs[0...2]), name: node.name, origin: node.origin)
                runningStatistics.append((inputs[3], try g.add(.runningMean(momentum: bn.momentum), [inputs[0], inputs[3]],
                                                                 name: "\(node.name).running_mean:update", origin: node.origin)))
                runningStatistics.append((inputs[4], try g.add(.runningVariance(momentum: bn.momentum), [inputs[0], inputs[4]],
                                                                 name: "\(node.name).running_var:update", origin: node.origin)))
            case .conv2d(let conv) where conv.epilogue != Epilogue():
                throw ShapeError(name: node.name, message: "differentiation runs before fusion; found \(node.op.mnemonic)")
            case .foldBatchNormWeight, .foldBatchNormBias:
                throw ShapeError(name: node.name, message: "differentiation runs before batch-norm folding")
            default:
                map[id] = g.append(Node(op: node.op, inputs: inputs, type: node.type, name: node.name, origin: node.origin))
            }
        }

        // Backward pass, in reverse schedule order; gradients of a value are summed as they arrive.
        var gradient: [NodeID: NodeID] = [:]
        var contributions: [NodeID: Int] = [:]
        func accumulate(_ target: NodeID, _ value: NodeID) throws(ShapeError) {
            guard let existing = gradient[target] else {
                gradient[target] = value
                return
            }
            contributions[target, default: 1] += 1
            gradient[target] = try g.add(.add, [existing, value], name: "\(g[target].name):grad+\(contributions[target]!)")
        }
        /// Only values that lead to a parameter need gradients: not the images, not the labels.
        func needsGradient(_ id: NodeID) -> Bool {
            switch g[id].op {
            case .input, .labels: return false
            case .parameter(let kind): return kind.isTrainable
            default: return true
            }
        }
        let loss = map[forward.outputs[1]]!
        let users = g.users()
        /// Batch norms whose ReLU is differentiated with them: the ReLU's output, by batch norm.
        var fusedReLU: [NodeID: NodeID] = [:]
        for id in forward.ids.reversed() {
            let node = g[map[id]!]
            let here = map[id]!
            let x = node.inputs
            if id == forward.outputs[1] {
                try accumulate(x[0], try g.add(.softmaxCrossEntropyBackward, [x[0], x[1]], name: "\(node.name):grad_logits"))
                continue
            }
            guard let gy = gradient[here] else { continue }
            func emit(_ op: Op, _ inputs: [NodeID], to target: NodeID, _ suffix: String) throws(ShapeError) {
                guard needsGradient(target) else { return }
                try accumulate(target, try g.add(op, inputs, name: "\(node.name):\(suffix)", origin: node.origin))
            }
            switch node.op {
            case .linear:
                try emit(.linearBackwardInput, [gy, x[1]], to: x[0], "grad_input")
                try emit(.linearBackwardWeight, [gy, x[0]], to: x[1], "grad_weight")
                try emit(.channelSum, [gy], to: x[2], "grad_bias")
            case .globalAveragePool:
                let dims = g[x[0]].type.dims
                try emit(.globalAveragePoolBackward(height: dims[1], width: dims[2]), [gy], to: x[0], "grad_input")
            case .relu:
                if case .batchNormTraining = g[x[0]].op, g.soleUser(of: x[0], users: users) == here {
                    fusedReLU[x[0]] = here
                    try accumulate(x[0], gy)
                } else {
                    try emit(.reluBackward, [gy, here], to: x[0], "grad_input")
                }
            case .add:
                try accumulate(x[0], gy)
                try accumulate(x[1], gy)
            case .shortcutPad(let stride, _):
                let dims = g[x[0]].type.dims
                try emit(.shortcutPadBackward(stride: stride, channels: dims[0], height: dims[1], width: dims[2]), [gy], to: x[0], "grad_input")
            case .maxPool(let window):
                try emit(.maxPoolBackward(window), [gy, x[0]], to: x[0], "grad_input")
            case .batchNormTraining(let bn):
                let relu = fusedReLU[here]
                let attributes = BatchNormBackward(epsilon: bn.epsilon, relu: relu != nil)
                let mask = relu.map { [$0] } ?? []
                let scale = try g.add(.batchNormScaleGradient(attributes), [gy, x[0]] + mask, name: "\(node.name):grad_weight", origin: node.origin)
                let shift = try g.add(.batchNormShiftGradient(attributes), [gy] + mask, name: "\(node.name):grad_bias", origin: node.origin)
                try accumulate(x[1], scale)
                try accumulate(x[2], shift)
                try emit(.batchNormBackward(attributes), [gy, x[0], x[1], scale, shift] + mask, to: x[0], "grad_input")
            case .conv2d(let conv):
                let dims = g[x[0]].type.dims
                try emit(.conv2dBackwardInput(conv, height: dims[1], width: dims[2]), [gy, x[1]], to: x[0], "grad_input")
                try emit(.conv2dBackwardWeight(conv), [gy, x[0]], to: x[1], "grad_weight")
            case .input, .labels, .parameter:
                break
            default:
                throw ShapeError(name: node.name, message: "no gradient rule for \(node.op.mnemonic)")
            }
        }

        var gradients: [(parameter: NodeID, gradient: NodeID)] = []
        for id in g.parameters where needsGradient(id) {
            guard let grad = gradient[id] else {
                throw ShapeError(name: g[id].name, message: "the loss does not depend on this parameter")
            }
            gradients.append((id, grad))
        }
        let logits = map[forward.outputs[0]]!
        g.outputs = [logits, loss] + gradients.map(\.gradient) + runningStatistics.map(\.update)
        try Verifier.verify(g)
        return TrainingGraph(graph: g, logits: logits, loss: loss, gradients: gradients, runningStatistics: runningStatistics)
    }
}
