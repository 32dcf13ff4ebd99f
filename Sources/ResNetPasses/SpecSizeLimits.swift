import ResNetDiagnostics
import ResNetIR
import ResNetSpec

/// Holds a lowered network to `SizeLimits` and says which spec key to change: the key that sets
/// a tensor too large for the generated C, and where a total passes its limit (the activations
/// of one training batch, the parameters, the multiply-adds per image). Part of the front end,
/// so `resnetc check` rejects what later stages could not hold, at the key, before any of them runs.
public enum SpecSizeLimits {
    /// Why a tensor has a limit, for the hint under its diagnostic.
    public static let tensorHint = "the generated C indexes one tensor of one image with a 32-bit int"

    /// The key that sets the size of tensor `name`, lowered from `origin`: the input's largest
    /// dimension, the stem's or the stage's filters (or, for the stem's weight, whichever of
    /// filters, input channels and kernel² is largest), or the classes (the FC weight).
    public static func key(forTensor name: String, from origin: String, in spec: ModelSpec) -> String {
        if let stage = stage(of: origin) { return "\(stage).filters" }
        let input = spec.input, conv = spec.stem.conv
        switch origin {
        case "input":
            return largest([("input.height", input.height), ("input.width", input.width), ("input.channels", input.channels)])
        case "stem.conv" where name.hasSuffix(".weight"):
            return largest([("stem.conv.filters", conv.filters), ("input.channels", input.channels),
                            ("stem.conv.kernel", conv.kernel * conv.kernel)])
        case "stem.conv":
            return "stem.conv.filters"
        default:
            return origin
        }
    }

    /// Where a running total over the network, passing its limit at a node lowered from `origin`,
    /// is reported: the blocks of that stage, or the key the node itself comes from.
    static func key(forTotalAt origin: String?, in spec: ModelSpec) -> String {
        guard let origin else { return "" }
        if let stage = stage(of: origin) { return "\(stage).blocks" }
        return key(forTensor: "", from: origin, in: spec)
    }

    /// Diagnostics for every total of `graph` (lowered from `spec`) beyond its limit, each at
    /// the node where it passes; none when the network fits.
    public static func check(_ graph: Graph, spec: ModelSpec) -> [Diagnostic] {
        var activationBytes = 0, parameters = 0, multiplyAdds = 0
        var diagnostics: [Diagnostic] = []
        func report(_ node: Node, _ message: String, hint: String) {
            diagnostics.append(.error(at: spec.location(of: key(forTotalAt: node.origin, in: spec)), message, hint: hint))
        }
        for id in graph.ids {
            let node = graph[id]
            let before = (activationBytes, parameters, multiplyAdds)
            switch node.op {
            case .labels:
                continue
            case .parameter:
                parameters = SizeLimits.sum(parameters, node.type.elementCount)
            default:
                if node.type.batched { activationBytes = SizeLimits.sum(activationBytes, TensorLayout.widest.storedBytes(node.type)) }
                multiplyAdds = SizeLimits.sum(multiplyAdds, CostModel.multiplyAdds(id, in: graph))
            }
            if before.0 <= SizeLimits.batchActivationBytes, activationBytes > SizeLimits.batchActivationBytes {
                report(node, "the activations of one image pass \(binary(SizeLimits.batchActivationBytes)) at '\(node.name)' (\(node.type)), "
                       + "more than a whole training batch may take", hint: "use fewer or narrower blocks, or a smaller input")
            }
            if before.1 <= SizeLimits.parameters, parameters > SizeLimits.parameters {
                report(node, "the parameters pass \(SizeLimits.parameters) at '\(node.name)' (\(node.type)); "
                       + "at most \(SizeLimits.parameters) (\(binary(4 * SizeLimits.parameters)) of float32) are allowed",
                       hint: "use fewer or narrower blocks")
            }
            if before.2 <= SizeLimits.multiplyAdds, multiplyAdds > SizeLimits.multiplyAdds {
                report(node, "the multiply-adds per image pass \(SizeLimits.multiplyAdds) at '\(node.name)' (\(node.type)); "
                       + "at most \(SizeLimits.multiplyAdds) are allowed", hint: "use fewer or narrower blocks, or a smaller input")
            }
        }
        let batch = spec.train.batchSize
        if activationBytes <= SizeLimits.batchActivationBytes, SizeLimits.product([activationBytes, batch]) > SizeLimits.batchActivationBytes {
            let written = spec.locations["train.batch_size"] != nil ? "" : " (the default)"
            diagnostics.append(.error(
                at: spec.location(of: "train.batch_size"),
                "a training batch of \(batch) images\(written) needs \(binary(SizeLimits.product([activationBytes, batch]))) of activations "
                    + "(\(binary(activationBytes)) per image); a batch may take at most \(binary(SizeLimits.batchActivationBytes))",
                hint: "use 'train.batch_size: \(SizeLimits.batchActivationBytes / activationBytes)' or less"))
        }
        return diagnostics
    }

    /// `stages[2]` for a node lowered from that stage (`stages[2]` or `stages[2].stride`), else nil.
    private static func stage(of origin: String) -> String? {
        guard origin.hasPrefix("stages["), let close = origin.firstIndex(of: "]") else { return nil }
        return String(origin[...close])
    }

    /// The key with the largest value (the first on a tie): the factor to shrink first.
    private static func largest(_ keys: [(key: String, value: Int)]) -> String {
        keys.max { $0.value < $1.value }!.key
    }

    /// `1.5 GiB`: bytes in the largest binary unit that keeps the number at least 1.
    static func binary(_ bytes: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let rounded = (value * 10).rounded() / 10
        let text = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        return "\(text) \(units[unit])"
    }
}
