/// Prints a graph as text, one node a line: `%12 = conv2d(%9, %10) {k3 s1 p1} "layer1.0.conv1" : N×16×32×32 f32`.
/// This is the format of `resnetc dump --stage ir|fused` and of the IR golden files; with a
/// memory plan (`--stage planned`) each planned node also shows `@offset+size` per image and its
/// live range, and `inplace %k` where it overwrites an operand.
public enum GraphPrinter {
    public static func print(_ graph: Graph, plan: MemoryPlan? = nil) -> String {
        var lines = ["graph \"\(graph.name)\" {"]
        for id in graph.ids {
            let node = graph[id]
            let operands = node.inputs.isEmpty ? "" : "(" + node.inputs.map(\.description).joined(separator: ", ") + ")"
            let attributes = attributeText(node.op).map { " {\($0)}" } ?? ""
            var line = "  \(id) = \(node.op.mnemonic)\(operands)\(attributes) \"\(node.name)\" : \(node.type)"
            if let buffer = plan?.buffers[id] {
                line += "  @\(buffer.offset)+\(buffer.size) live [\(buffer.firstUse), \(buffer.lastUse)]"
                if let operand = buffer.inPlaceOf { line += " inplace \(operand)" }
            }
            lines.append(line)
        }
        lines.append("  return " + graph.outputs.map(\.description).joined(separator: ", "))
        if let plan { lines.append("  // " + plan.report(batch: 1)) }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The op's attributes in dump notation, or nil when it has none.
    public static func attributeText(_ op: Op) -> String? {
        switch op {
        case .conv2d(let c): return "k\(c.kernel) s\(c.stride) p\(c.padding)"
        case .batchNorm(let bn): return "eps \(bn.epsilon) momentum \(bn.momentum)"
        case .shortcutPad(let stride, let channels): return "stride \(stride) channels \(channels)"
        case .maxPool(let w): return "k\(w.kernel) s\(w.stride) p\(w.padding)"
        case .foldBatchNormWeight(let epsilon), .foldBatchNormBias(let epsilon): return "eps \(epsilon)"
        case .batchNormBackward(let b), .batchNormScaleGradient(let b), .batchNormShiftGradient(let b): return "eps \(b.epsilon)"
        case .batchNormTraining(let bn): return "eps \(bn.epsilon)"
        case .runningMean(let momentum), .runningVariance(let momentum): return "momentum \(momentum)"
        case .globalAveragePoolBackward(let h, let w): return "to \(h)x\(w)"
        case .maxPoolBackward(let w): return "k\(w.kernel) s\(w.stride) p\(w.padding)"
        case .shortcutPadBackward(let stride, let channels, let h, let w): return "stride \(stride) to \(channels)x\(h)x\(w)"
        case .conv2dBackwardInput(let c, let h, let w): return "k\(c.kernel) s\(c.stride) p\(c.padding) to \(h)x\(w)"
        case .conv2dBackwardWeight(let c): return "k\(c.kernel) s\(c.stride) p\(c.padding)"
        default: return nil
        }
    }
}
