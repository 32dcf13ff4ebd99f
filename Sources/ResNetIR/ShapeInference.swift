/// A node whose operand types make its result impossible (a map shrinking below 1×1, a
/// residual add of unequal shapes, …) or too large for the generated code.
public struct ShapeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why the result cannot be typed.
    public enum Kind: Sendable, Equatable {
        /// The operands do not fit the op.
        case mismatch
        /// The result (or a leaf) has more elements than `SizeLimits.tensorElements`.
        case tooLarge
    }

    /// The node being built.
    public var name: String
    public var message: String
    public var kind: Kind

    public init(name: String, message: String, kind: Kind = .mismatch) {
        self.name = name
        self.message = message
        self.kind = kind
    }

    public var description: String { "\(name): \(message)" }
}

/// The typing rule of every op: from operand types to result type, or a `ShapeError`. Every
/// type it gives holds at most `SizeLimits.tensorElements` stored elements, and its arithmetic
/// on sizes cannot overflow.
public enum ShapeInference {
    /// Output size of a sliding window: ⌊(size + 2·padding − kernel) / stride⌋ + 1, or 0 when the
    /// window does not fit; `Int.max` when the padded size overflows (no limit lets that through).
    public static func windowOutput(size: Int, kernel: Int, stride: Int, padding: Int) -> Int {
        let padded = SizeLimits.sum(size, SizeLimits.product([2, padding]))
        guard kernel >= 1, stride >= 1, padded >= kernel else { return 0 }
        return padded == Int.max ? Int.max : (padded - kernel) / stride + 1
    }

    /// Throws unless `type` stores at most `SizeLimits.tensorElements` elements (per image when
    /// batched): the generated C indexes one tensor of one image with `int`.
    public static func checkSize(_ type: TensorType, name: String) throws(ShapeError) {
        let stored = TensorLayout.widest.storedElementCount(type)
        guard stored > SizeLimits.tensorElements else { return }
        let count = stored == Int.max ? "more than \(Int.max)" : String(stored)
        let padding = TensorLayout.isFeatureMap(type) && TensorLayout.widest.paddedChannels(type.dims[0]) != type.dims[0]
            ? " (channels padded to a multiple of \(TensorLayout.widest.channelBlock))" : ""
        throw ShapeError(name: name, message: "\(name) would be \(type): \(count) values\(type.batched ? " per image" : "")\(padding); "
                             + "one tensor holds at most \(SizeLimits.tensorElements)", kind: .tooLarge)
    }

    public static func resultType(of op: Op, operands: [TensorType], name: String) throws(ShapeError) -> TensorType {
        let result = try inferredType(of: op, operands: operands, name: name)
        try checkSize(result, name: name)
        return result
    }

    private static func inferredType(of op: Op, operands: [TensorType], name: String) throws(ShapeError) -> TensorType {
        func fail(_ message: String) -> ShapeError { ShapeError(name: name, message: message) }
        func featureMap(_ t: TensorType, _ role: String) throws(ShapeError) -> (c: Int, h: Int, w: Int) {
            guard t.batched, t.dims.count == 3, t.element == .float32 else {
                throw fail("\(role) must be a batch of feature maps (N×C×H×W f32), found \(t)")
            }
            return (t.dims[0], t.dims[1], t.dims[2])
        }
        func expectCount(_ n: Int) throws(ShapeError) {
            guard operands.count == n else { throw fail("\(op.mnemonic) takes \(n) operands, found \(operands.count)") }
        }
        func window(_ x: (c: Int, h: Int, w: Int), kernel: Int, stride: Int, padding: Int) throws(ShapeError) -> (Int, Int) {
            guard kernel >= 1, stride >= 1, padding >= 0 else { throw fail("invalid window: kernel \(kernel), stride \(stride), padding \(padding)") }
            let h = windowOutput(size: x.h, kernel: kernel, stride: stride, padding: padding)
            let w = windowOutput(size: x.w, kernel: kernel, stride: stride, padding: padding)
            guard h >= 1, w >= 1 else {
                throw fail("a \(kernel)×\(kernel) window with stride \(stride) and padding \(padding) shrinks the \(x.h)×\(x.w) feature map below 1×1")
            }
            return (h, w)
        }
        /// Every stride-th pixel from 0: ⌈size / stride⌉ pixels.
        func subsampled(_ size: Int, _ stride: Int) -> Int { SizeLimits.divideRoundingUp(size, by: stride) }

        switch op {
        case .input, .labels, .parameter:
            throw fail("\(op.mnemonic) is a leaf; its type is given, not inferred")

        case .conv2d(let conv):
            let e = conv.epilogue
            try expectCount(2 + (e.bias ? 1 : 0) + (e.residual ? 1 : 0))
            let x = try featureMap(operands[0], "the convolution's input")
            let expected = [conv.outChannels, x.c, conv.kernel, conv.kernel]
            guard !operands[1].batched, operands[1].dims == expected else {
                throw fail("weight must be \(expected.map(String.init).joined(separator: "×")), found \(operands[1])")
            }
            let (h, w) = try window(x, kernel: conv.kernel, stride: conv.stride, padding: conv.padding)
            let result = TensorType.activation([conv.outChannels, h, w])
            if e.bias, operands[2] != .parameter([conv.outChannels]) {
                throw fail("bias must be \(conv.outChannels) f32, found \(operands[2])")
            }
            if e.residual, operands.last! != result {
                throw fail("the residual \(operands.last!) does not match the convolution's output \(result)")
            }
            return result

        case .batchNorm:
            try expectCount(5)
            let x = try featureMap(operands[0], "batch norm's input")
            for operand in operands.dropFirst() where operand != .parameter([x.c]) {
                throw fail("batch-norm statistics and affine parameters must be \(x.c) f32, found \(operand)")
            }
            return operands[0]

        case .relu:
            try expectCount(1)
            guard operands[0].batched, operands[0].element == .float32 else { throw fail("relu takes a batch of f32, found \(operands[0])") }
            return operands[0]

        case .add:
            try expectCount(2)
            guard operands[0] == operands[1], operands[0].batched else {
                throw fail("cannot add \(operands[0]) and \(operands[1]): the shapes differ")
            }
            return operands[0]

        case .shortcutPad(let stride, let channels):
            try expectCount(1)
            let x = try featureMap(operands[0], "the shortcut's input")
            guard stride >= 1 else { throw fail("invalid stride \(stride)") }
            guard channels >= x.c else { throw fail("option A cannot shrink \(x.c) channels to \(channels)") }
            return .activation([channels, subsampled(x.h, stride), subsampled(x.w, stride)])

        case .maxPool(let pool):
            try expectCount(1)
            let x = try featureMap(operands[0], "the pool's input")
            let (h, w) = try window(x, kernel: pool.kernel, stride: pool.stride, padding: pool.padding)
            return .activation([x.c, h, w])

        case .globalAveragePool:
            try expectCount(1)
            let x = try featureMap(operands[0], "the pool's input")
            return .activation([x.c])

        case .linear:
            try expectCount(3)
            guard operands[0].batched, operands[0].dims.count == 1 else { throw fail("linear takes N×features, found \(operands[0])") }
            let features = operands[0].dims[0]
            guard !operands[1].batched, operands[1].dims.count == 2, operands[1].dims[1] == features else {
                throw fail("weight must be out×\(features), found \(operands[1])")
            }
            let out = operands[1].dims[0]
            guard operands[2] == .parameter([out]) else { throw fail("bias must be \(out) f32, found \(operands[2])") }
            return .activation([out])

        case .softmaxCrossEntropy:
            try expectCount(2)
            guard operands[0].batched, operands[0].dims.count == 1 else { throw fail("logits must be N×classes, found \(operands[0])") }
            guard operands[1] == TensorType([], batched: true, element: .int32) else {
                throw fail("labels must be N i32, found \(operands[1])")
            }
            return TensorType([], batched: false)

        case .foldBatchNormWeight:
            try expectCount(3)
            guard !operands[0].batched, operands[0].dims.count >= 2 else { throw fail("fold_bn_weight folds into a weight, found \(operands[0])") }
            let channels = TensorType.parameter([operands[0].dims[0]])
            guard operands[1] == channels, operands[2] == channels else { throw fail("γ and var must be \(channels)") }
            return operands[0]

        case .batchNormTraining:
            try expectCount(3)
            let x = try featureMap(operands[0], "batch norm's input")
            guard operands[1] == .parameter([x.c]), operands[2] == .parameter([x.c]) else {
                throw fail("γ and β must be \(x.c) f32, found \(operands[1]) and \(operands[2])")
            }
            return operands[0]

        case .runningMean, .runningVariance:
            try expectCount(2)
            let x = try featureMap(operands[0], "the batch")
            guard operands[1] == .parameter([x.c]) else { throw fail("the running statistic must be \(x.c) f32, found \(operands[1])") }
            return operands[1]

        case .softmaxCrossEntropyBackward:
            try expectCount(2)
            guard operands[0].batched, operands[0].dims.count == 1, operands[1] == TensorType([], batched: true, element: .int32) else {
                throw fail("takes N×classes logits and N i32 labels, found \(operands[0]) and \(operands[1])")
            }
            return operands[0]

        case .linearBackwardInput:
            try expectCount(2)
            guard operands[0].batched, operands[0].dims.count == 1, !operands[1].batched, operands[1].dims.count == 2,
                  operands[1].dims[0] == operands[0].dims[0] else {
                throw fail("takes N×out and out×in, found \(operands[0]) and \(operands[1])")
            }
            return .activation([operands[1].dims[1]])

        case .linearBackwardWeight:
            try expectCount(2)
            guard operands[0].batched, operands[1].batched, operands[0].dims.count == 1, operands[1].dims.count == 1 else {
                throw fail("takes N×out and N×in, found \(operands[0]) and \(operands[1])")
            }
            return .parameter([operands[0].dims[0], operands[1].dims[0]])

        case .channelSum:
            try expectCount(1)
            guard operands[0].batched, operands[0].dims.count == 1 else { throw fail("takes N×C, found \(operands[0])") }
            return .parameter([operands[0].dims[0]])

        case .globalAveragePoolBackward(let height, let width):
            try expectCount(1)
            guard operands[0].batched, operands[0].dims.count == 1, height >= 1, width >= 1 else { throw fail("takes N×C, found \(operands[0])") }
            return .activation([operands[0].dims[0], height, width])

        case .maxPoolBackward(let pool):
            try expectCount(2)
            let x = try featureMap(operands[1], "the pool's input")
            let (h, w) = try window(x, kernel: pool.kernel, stride: pool.stride, padding: pool.padding)
            guard operands[0] == .activation([x.c, h, w]) else { throw fail("the gradient must be N×\(x.c)×\(h)×\(w), found \(operands[0])") }
            return operands[1]

        case .reluBackward:
            try expectCount(2)
            guard operands[0] == operands[1], operands[0].batched else { throw fail("gradient and output differ: \(operands[0]), \(operands[1])") }
            return operands[0]

        case .shortcutPadBackward(let stride, let channels, let height, let width):
            try expectCount(1)
            let g = try featureMap(operands[0], "the shortcut's gradient")
            guard stride >= 1, height >= 0, width >= 0, channels <= g.c, subsampled(height, stride) == g.h, subsampled(width, stride) == g.w else {
                throw fail("a gradient of \(operands[0]) cannot come from \(channels)×\(height)×\(width) subsampled by \(stride)")
            }
            return .activation([channels, height, width])

        case .batchNormScaleGradient(let b):
            try expectCount(b.relu ? 3 : 2)
            let x = try featureMap(operands[1], "batch norm's input")
            guard operands.allSatisfy({ $0 == operands[1] }) else { throw fail("gy, x and y must share one type, found \(operands.map(\.description))") }
            return .parameter([x.c])

        case .batchNormShiftGradient(let b):
            try expectCount(b.relu ? 2 : 1)
            let g = try featureMap(operands[0], "batch norm's output gradient")
            guard operands.allSatisfy({ $0 == operands[0] }) else { throw fail("gy and y must share one type, found \(operands.map(\.description))") }
            return .parameter([g.c])

        case .batchNormBackward(let b):
            try expectCount(b.relu ? 6 : 5)
            let x = try featureMap(operands[1], "batch norm's input")
            let perChannel = TensorType.parameter([x.c])
            guard operands[0] == operands[1], operands[2...4].allSatisfy({ $0 == perChannel }), !b.relu || operands[5] == operands[1] else {
                throw fail("takes gy, x (and y) of one type and γ, dγ, dβ of \(x.c), found \(operands.map(\.description))")
            }
            return operands[1]

        case .conv2dBackwardInput(let conv, let height, let width):
            try expectCount(2)
            let g = try featureMap(operands[0], "the convolution's output gradient")
            guard !operands[1].batched, operands[1].dims.count == 4, operands[1].dims[0] == g.c, operands[1].dims[2] == conv.kernel else {
                throw fail("weight \(operands[1]) does not fit gradient \(operands[0])")
            }
            let inChannels = operands[1].dims[1]
            let (h, w) = try window((inChannels, height, width), kernel: conv.kernel, stride: conv.stride, padding: conv.padding)
            guard (h, w) == (g.h, g.w) else { throw fail("\(height)×\(width) convolved gives \(h)×\(w), not the gradient's \(g.h)×\(g.w)") }
            return .activation([inChannels, height, width])

        case .conv2dBackwardWeight(let conv):
            try expectCount(2)
            let g = try featureMap(operands[0], "the convolution's output gradient")
            let x = try featureMap(operands[1], "the convolution's input")
            let (h, w) = try window(x, kernel: conv.kernel, stride: conv.stride, padding: conv.padding)
            guard (h, w) == (g.h, g.w), g.c == conv.outChannels else { throw fail("gradient \(operands[0]) does not fit input \(operands[1])") }
            return .parameter([g.c, x.c, conv.kernel, conv.kernel])

        case .foldBatchNormBias:
            try expectCount(4)
            guard !operands[0].batched, operands[0].dims.count == 1, operands.allSatisfy({ $0 == operands[0] }) else {
                throw fail("fold_bn_bias takes four equal per-channel vectors, found \(operands.map(\.description))")
            }
            return operands[0]
        }
    }
}
