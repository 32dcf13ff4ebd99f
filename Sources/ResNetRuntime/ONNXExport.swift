import Foundation
import ResNetIR

/// A network and its weights as an ONNX model (opset 17, IR version 8) in standard operators, so
/// that ONNX Runtime, OpenVINO and other engines run exactly resnetc's network. It is built from
/// the graph as lowered, before fusion: each IR op becomes the ONNX op of the same meaning, except
/// that an option A shortcut becomes Slice (every stride-th pixel) then Pad (zero channels at the
/// end), and global average pooling becomes GlobalAveragePool then Flatten. Parameters become
/// initializers under their torchvision names; the input is "input" (batch×C×H×W) and the output
/// "logits" (batch×classes), with the batch size the symbolic dimension "batch".
public struct ONNXModel {
    public static let opsetVersion = 17
    public static let irVersion = 8

    /// The serialised ModelProto.
    public var bytes: Data
    public var nodeCount: Int
    public var initializerCount: Int

    /// Protobuf messages, and so ONNX files without external data, hold less than 2 GiB.
    static let maxBytes = Int(Int32.max)

    /// Translates `graph`, taking every parameter's value from `values`; refuses, naming the node,
    /// an op with no ONNX translation here (training ops, fused convolutions).
    public init(_ graph: Graph, values: ParameterValues) throws {
        var body = ONNXGraphBody(graph: graph)
        for id in graph.ids { try body.translate(id, values: values) }
        guard let logits = body.logits, let input = body.imageInput else {
            throw RuntimeError("cannot export '\(graph.name)' to ONNX: it needs one image input and one output, the logits")
        }
        var model = ProtobufWriter()
        model.int(ModelField.irVersion, Self.irVersion)
        model.string(ModelField.producerName, "resnetc")
        model.message(ModelField.opsetImport) { opset in
            opset.string(OperatorSetField.domain, "")
            opset.int(OperatorSetField.version, Self.opsetVersion)
        }
        model.message(ModelField.graph) { onnxGraph in
            for node in body.nodes { onnxGraph.bytes(GraphField.node, node) }
            onnxGraph.string(GraphField.name, graph.name)
            for initializer in body.initializers { onnxGraph.bytes(GraphField.initializer, initializer) }
            onnxGraph.message(GraphField.input) { Self.valueInfo(&$0, name: body.tensorNames[input.index], dims: graph[input].type.dims) }
            onnxGraph.message(GraphField.output) { Self.valueInfo(&$0, name: body.tensorNames[logits.index], dims: graph[logits].type.dims) }
        }
        guard model.data.count <= Self.maxBytes else {
            throw RuntimeError("the ONNX model of '\(graph.name)' would be \(model.data.count) bytes; "
                               + "an ONNX file without external data holds at most \(Self.maxBytes)")
        }
        bytes = model.data
        nodeCount = body.nodes.count
        initializerCount = body.initializers.count
    }

    /// Writes the model so that no half-written file is ever left at `path`.
    public func write(to path: String) throws {
        try AtomicFile.write(bytes, to: path)
    }

    /// A float tensor's name and type: batch (symbolic) × `dims`.
    private static func valueInfo(_ info: inout ProtobufWriter, name: String, dims: [Int]) {
        info.string(ValueInfoField.name, name)
        info.message(ValueInfoField.type) { type in
            type.message(TypeField.tensorType) { tensor in
                tensor.int(TensorTypeField.elementType, ONNXElementType.float)
                tensor.message(TensorTypeField.shape) { shape in
                    shape.message(ShapeField.dimension) { $0.string(DimensionField.parameter, "batch") }
                    for size in dims { shape.message(ShapeField.dimension) { $0.int(DimensionField.value, size) } }
                }
            }
        }
    }
}

/// The graph being translated: encoded nodes and initializers, and the ONNX tensor that holds
/// each IR node's value.
private struct ONNXGraphBody {
    let graph: Graph
    var nodes: [Data] = []
    var initializers: [Data] = []
    /// ONNX tensor names by node index: the node's own name, "logits" for the output.
    let tensorNames: [String]
    /// The one image input (named "input" by the front end) and the output.
    private(set) var imageInput: NodeID?
    let logits: NodeID?

    init(graph: Graph) {
        let logits = graph.outputs.count == 1 ? graph.outputs[0] : nil
        self.graph = graph
        self.logits = logits
        tensorNames = graph.ids.map { $0 == logits ? "logits" : graph[$0].name }
    }

    /// Adds the ONNX nodes (or the initializer) that compute IR node `id`.
    mutating func translate(_ id: NodeID, values: ParameterValues) throws {
        let node = graph[id]
        let name = tensorNames[id.index]
        let operands = node.inputs.map { tensorNames[$0.index] }
        switch node.op {
        case .input where imageInput == nil && node.type.batched && node.type.dims.count == 3:
            imageInput = id
        case .parameter:
            guard let floats = values.tensors[node.name], floats.count == node.type.elementCount else {
                throw RuntimeError("cannot export '\(graph.name)' to ONNX: no value of \(node.type.elementCount) floats for '\(node.name)'")
            }
            floatInitializer(name, dims: node.type.dims, floats)
        case .conv2d(let conv) where !conv.epilogue.residual && !conv.epilogue.relu:
            // The inputs are x, weight and, when the graph has one, bias: Conv's own order.
            add("Conv", node.name, operands, [name], [
                ("kernel_shape", .ints([conv.kernel, conv.kernel])), ("strides", .ints([conv.stride, conv.stride])),
                ("pads", .ints([conv.padding, conv.padding, conv.padding, conv.padding])),
            ])
        case .batchNorm(let attributes):
            // Inference mode (running statistics): x, scale, shift, mean, variance, as in the IR.
            add("BatchNormalization", node.name, operands, [name], [("epsilon", .float(attributes.epsilon))])
        case .relu:
            add("Relu", node.name, operands, [name])
        case .add:
            add("Add", node.name, operands, [name])
        case .shortcutPad(let stride, let channels):
            let x = graph[node.inputs[0]].type.dims
            var kept = operands[0]
            if stride > 1 {
                kept = node.name + ".subsampled"
                // Every stride-th row and column from 0: Slice's starts, ends, axes and steps, in its operand order.
                let sliceOperands = [("starts", [0, 0]), ("ends", [x[1], x[2]]), ("axes", [2, 3]), ("steps", [stride, stride])]
                for (role, ints) in sliceOperands { int64Initializer("\(node.name).\(role)", ints) }
                add("Slice", "\(node.name).subsample", [operands[0]] + sliceOperands.map { "\(node.name).\($0.0)" }, [kept])
            }
            // Pads are the begins of N, C, H, W, then their ends: zero channels after the kept ones.
            int64Initializer("\(node.name).pads", [0, 0, 0, 0, 0, channels - x[0], 0, 0])
            add("Pad", "\(node.name).pad", [kept, "\(node.name).pads"], [name], [("mode", .string("constant"))])
        case .maxPool(let window):
            add("MaxPool", node.name, operands, [name], [
                ("kernel_shape", .ints([window.kernel, window.kernel])), ("strides", .ints([window.stride, window.stride])),
                ("pads", .ints([window.padding, window.padding, window.padding, window.padding])),
            ])
        case .globalAveragePool:
            // GlobalAveragePool keeps N×C×1×1; the IR's result is N×C.
            add("GlobalAveragePool", node.name, operands, [node.name + ".pooled"])
            add("Flatten", "\(node.name).flatten", [node.name + ".pooled"], [name], [("axis", .int(1))])
        case .linear:
            // x·Wᵀ + b with W stored out×in, as torchvision stores it.
            add("Gemm", node.name, operands, [name], [("transB", .int(1))])
        default:
            throw RuntimeError("cannot export node '\(node.name)' (\(node.op.mnemonic)) to ONNX: only the lowered inference graph's "
                               + "image input, parameters, conv2d, batch_norm, relu, add, shortcut_pad, max_pool, global_avg_pool and linear are translated")
        }
    }

    /// An attribute's value, of the kinds the translated ops take.
    enum AttributeValue {
        case int(Int), ints([Int]), float(Float), string(String)
    }

    private mutating func add(_ opType: String, _ nodeName: String, _ inputs: [String], _ outputs: [String],
                              _ attributes: [(String, AttributeValue)] = []) {
        var node = ProtobufWriter()
        for input in inputs { node.string(NodeField.input, input) }
        for output in outputs { node.string(NodeField.output, output) }
        node.string(NodeField.name, nodeName)
        node.string(NodeField.opType, opType)
        for (name, value) in attributes {
            node.message(NodeField.attribute) { attribute in
                attribute.string(AttributeField.name, name)
                switch value {
                case .int(let i):
                    attribute.int(AttributeField.int, i)
                    attribute.int(AttributeField.type, AttributeType.int)
                case .ints(let list):
                    for i in list { attribute.int(AttributeField.ints, i) }
                    attribute.int(AttributeField.type, AttributeType.ints)
                case .float(let f):
                    attribute.float(AttributeField.float, f)
                    attribute.int(AttributeField.type, AttributeType.float)
                case .string(let s):
                    attribute.string(AttributeField.string, s)
                    attribute.int(AttributeField.type, AttributeType.string)
                }
            }
        }
        nodes.append(node.data)
    }

    private mutating func floatInitializer(_ name: String, dims: [Int], _ values: [Float]) {
        initializer(name, dims: dims, elementType: ONNXElementType.float,
                    raw: values.map { $0.bitPattern.littleEndian }.withUnsafeBufferPointer { Data(buffer: $0) })
    }

    /// A 1-D int64 tensor: the index and padding operands of Slice and Pad.
    private mutating func int64Initializer(_ name: String, _ values: [Int]) {
        initializer(name, dims: [values.count], elementType: ONNXElementType.int64,
                    raw: values.map { Int64($0).littleEndian }.withUnsafeBufferPointer { Data(buffer: $0) })
    }

    private mutating func initializer(_ name: String, dims: [Int], elementType: Int, raw: Data) {
        var tensor = ProtobufWriter()
        for size in dims { tensor.int(TensorField.dims, size) }
        tensor.int(TensorField.dataType, elementType)
        tensor.string(TensorField.name, name)
        tensor.bytes(TensorField.rawData, raw)
        initializers.append(tensor.data)
    }
}

// Field numbers and enum values from onnx.proto, one namespace per message.

private enum ModelField { static let irVersion = 1, producerName = 2, graph = 7, opsetImport = 8 }
private enum OperatorSetField { static let domain = 1, version = 2 }
private enum GraphField { static let node = 1, name = 2, initializer = 5, input = 11, output = 12 }
private enum NodeField { static let input = 1, output = 2, name = 3, opType = 4, attribute = 5 }
private enum AttributeField { static let name = 1, float = 2, int = 3, string = 4, ints = 8, type = 20 }
private enum AttributeType { static let float = 1, int = 2, string = 3, ints = 7 }
private enum TensorField { static let dims = 1, dataType = 2, name = 8, rawData = 9 }
private enum ValueInfoField { static let name = 1, type = 2 }
private enum TypeField { static let tensorType = 1 }
private enum TensorTypeField { static let elementType = 1, shape = 2 }
private enum ShapeField { static let dimension = 1 }
private enum DimensionField { static let value = 1, parameter = 2 }
private enum ONNXElementType { static let float = 1, int64 = 7 }
