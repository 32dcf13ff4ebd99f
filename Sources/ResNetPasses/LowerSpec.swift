import ResNetDiagnostics
import ResNetIR
import ResNetSpec

/// Lowers a `ModelSpec` to the forward dataflow graph, naming nodes and parameters as
/// torchvision's state dict does (`layer2.0.downsample.0.weight`) so that its weights load as is.
///
/// Requires: a spec that `SpecLoader` accepted. Produces: a verified graph whose outputs are the
/// logits, plus the mean cross-entropy loss when `withLoss` is set. Shape errors (a feature map
/// shrinking below 1×1) and sizes beyond `SizeLimits` (a tensor, or a total of the network)
/// become diagnostics at the spec key responsible.
public enum LowerSpec {
    public static func lower(_ spec: ModelSpec, withLoss: Bool = false) throws(DiagnosticError) -> Graph {
        var lowering = Lowering(spec: spec)
        let graph: Graph
        do {
            graph = try lowering.run(withLoss: withLoss)
        } catch let error where error.kind == .tooLarge {
            let key = SpecSizeLimits.key(forTensor: error.name, from: lowering.origin, in: spec)
            throw DiagnosticError(.error(at: spec.location(of: key), error.message, hint: SpecSizeLimits.tensorHint))
        } catch {
            let origin = lowering.origin
            throw DiagnosticError(.error(at: spec.location(of: origin), error.message,
                                         hint: hint(for: origin, in: spec)))
        }
        let oversize = SpecSizeLimits.check(graph, spec: spec)
        guard oversize.isEmpty else { throw DiagnosticError(oversize) }
        return graph
    }

    private static func hint(for origin: String, in spec: ModelSpec) -> String? {
        if origin.hasSuffix(".stride") || origin.hasPrefix("stem") {
            return "the input is \(spec.input.height)×\(spec.input.width); use a larger input or fewer downsampling steps"
        }
        return nil
    }
}

/// The state of one lowering: the graph so far and the spec key being lowered.
private struct Lowering {
    let spec: ModelSpec
    var graph: Graph
    /// The spec key path the nodes being added come from.
    var origin = ""

    init(spec: ModelSpec) {
        self.spec = spec
        graph = Graph(name: spec.name)
    }

    mutating func run(withLoss: Bool) throws(ShapeError) -> Graph {
        origin = "input"
        let image = TensorType.activation([spec.input.channels, spec.input.height, spec.input.width])
        try ShapeInference.checkSize(image, name: "input")
        let input = graph.append(Node(op: .input, inputs: [], type: image, name: "input", origin: origin))
        var x = try stem(input)
        var channels = spec.stem.conv.filters
        for (s, stage) in spec.stages.enumerated() {
            for b in 0..<stage.blocks {
                origin = b == 0 && stage.stride != 1 ? "stages[\(s)].stride" : "stages[\(s)]"
                let stride = b == 0 ? stage.stride : 1
                (x, channels) = try block(x, inChannels: channels, filters: stage.filters, stride: stride, prefix: "layer\(s + 1).\(b)")
            }
        }
        origin = "head"
        x = try graph.add(.globalAveragePool, [x], name: "avgpool", origin: origin)
        origin = "classes"
        let weight = try parameter(.weight, [spec.classes, channels], "fc.weight")
        let bias = try parameter(.bias, [spec.classes], "fc.bias")
        let logits = try graph.add(.linear, [x, weight, bias], name: "fc", origin: origin)
        graph.outputs = [logits]
        if withLoss {
            let labels = graph.append(Node(op: .labels, inputs: [], type: TensorType([], batched: true, element: .int32),
                                           name: "labels"))
            graph.outputs.append(try graph.add(.softmaxCrossEntropy, [logits, labels], name: "loss"))
        }
        try Verifier.verify(graph)
        return graph
    }

    private mutating func stem(_ input: NodeID) throws(ShapeError) -> NodeID {
        origin = "stem.conv"
        let c = spec.stem.conv
        var x = try conv(input, filters: c.filters, kernel: c.kernel, stride: c.stride, padding: c.padding, name: "conv1")
        x = try batchNorm(x, name: "bn1")
        x = try graph.add(.relu, [x], name: "relu", origin: origin)
        if let pool = spec.stem.pool {
            origin = "stem.pool"
            x = try graph.add(.maxPool(Window(kernel: pool.kernel, stride: pool.stride, padding: pool.padding)), [x],
                              name: "maxpool", origin: origin)
        }
        return x
    }

    /// One basic or bottleneck block with its shortcut; returns the output and its channels.
    private mutating func block(_ x: NodeID, inChannels: Int, filters: Int, stride: Int, prefix: String) throws(ShapeError) -> (NodeID, Int) {
        let outChannels = spec.block.outputChannels(filters: filters)
        var y = x
        switch spec.block {
        case .basic:
            y = try conv(y, filters: filters, kernel: 3, stride: stride, padding: 1, name: "\(prefix).conv1")
            y = try batchNorm(y, name: "\(prefix).bn1")
            y = try graph.add(.relu, [y], name: "\(prefix).relu1", origin: origin)
            y = try conv(y, filters: filters, kernel: 3, stride: 1, padding: 1, name: "\(prefix).conv2")
            y = try batchNorm(y, name: "\(prefix).bn2")
        case .bottleneck(_, let strideAt):
            let (first, middle) = strideAt == .first ? (stride, 1) : (1, stride)
            y = try conv(y, filters: filters, kernel: 1, stride: first, padding: 0, name: "\(prefix).conv1")
            y = try batchNorm(y, name: "\(prefix).bn1")
            y = try graph.add(.relu, [y], name: "\(prefix).relu1", origin: origin)
            y = try conv(y, filters: filters, kernel: 3, stride: middle, padding: 1, name: "\(prefix).conv2")
            y = try batchNorm(y, name: "\(prefix).bn2")
            y = try graph.add(.relu, [y], name: "\(prefix).relu2", origin: origin)
            y = try conv(y, filters: outChannels, kernel: 1, stride: 1, padding: 0, name: "\(prefix).conv3")
            y = try batchNorm(y, name: "\(prefix).bn3")
        }
        if let shortcut = try shortcut(x, inChannels: inChannels, outChannels: outChannels, stride: stride, prefix: prefix) {
            y = try graph.add(.add, [y, shortcut], name: "\(prefix).add", origin: origin)
        }
        y = try graph.add(.relu, [y], name: "\(prefix).relu", origin: origin)
        return (y, outChannels)
    }

    /// The shortcut the spec's option gives this block, or nil for a plain network.
    private mutating func shortcut(_ x: NodeID, inChannels: Int, outChannels: Int, stride: Int, prefix: String) throws(ShapeError) -> NodeID? {
        guard spec.residual else { return nil }
        let dimensionsChange = stride != 1 || inChannels != outChannels
        let project: Bool
        switch spec.shortcut {
        case .A:
            guard dimensionsChange else { return x }
            return try graph.add(.shortcutPad(stride: stride, channels: outChannels), [x], name: "\(prefix).shortcut", origin: origin)
        case .B: project = dimensionsChange
        case .C: project = true
        }
        guard project else { return x }
        let y = try conv(x, filters: outChannels, kernel: 1, stride: stride, padding: 0, name: "\(prefix).downsample.0")
        return try batchNorm(y, name: "\(prefix).downsample.1")
    }

    private mutating func conv(_ x: NodeID, filters: Int, kernel: Int, stride: Int, padding: Int, name: String) throws(ShapeError) -> NodeID {
        let inChannels = graph[x].type.dims[0]
        let weight = try parameter(.weight, [filters, inChannels, kernel, kernel], "\(name).weight")
        let op = Op.conv2d(Convolution(outChannels: filters, kernel: kernel, stride: stride, padding: padding))
        return try graph.add(op, [x, weight], name: name, origin: origin)
    }

    private mutating func batchNorm(_ x: NodeID, name: String) throws(ShapeError) -> NodeID {
        let channels = [graph[x].type.dims[0]]
        let operands = [
            try parameter(.scale, channels, "\(name).weight"), try parameter(.shift, channels, "\(name).bias"),
            try parameter(.runningMean, channels, "\(name).running_mean"), try parameter(.runningVariance, channels, "\(name).running_var"),
        ]
        let attributes = BatchNormAttributes(epsilon: Float(spec.batchNorm.epsilon), momentum: Float(spec.batchNorm.momentum))
        return try graph.add(.batchNorm(attributes), [x] + operands, name: name, origin: origin)
    }

    private mutating func parameter(_ kind: ParameterKind, _ dims: [Int], _ name: String) throws(ShapeError) -> NodeID {
        try ShapeInference.checkSize(.parameter(dims), name: name)
        return graph.append(Node(op: .parameter(kind), inputs: [], type: .parameter(dims), name: name, origin: origin))
    }
}
