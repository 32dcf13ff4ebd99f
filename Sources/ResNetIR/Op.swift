/// Every operation the compiler knows, in the order a network uses them. Fusion does not add
/// ops: it turns on a convolution's epilogue (bias, residual add, ReLU), so each later stage
/// handles one conv op with flags rather than a family of fused variants.
public enum Op: Sendable, Equatable {
    /// The image batch, NCHW float32, already normalised.
    case input
    /// Class indices for the batch, int32 (training only).
    case labels
    /// A learned tensor or a batch-norm running statistic, named as in torchvision's state dict.
    case parameter(ParameterKind)
    /// inputs: x, weight, then bias if `epilogue.bias`, then the residual if `epilogue.residual`.
    case conv2d(Convolution)
    /// Batch normalisation; inputs: x, γ (scale), β (shift), running mean, running variance.
    case batchNorm(BatchNormAttributes)
    case relu
    /// Elementwise sum of the residual branch and the shortcut.
    case add
    /// Option A shortcut: keep every `stride`-th pixel from (0, 0), append zero channels up to `channels`.
    case shortcutPad(stride: Int, channels: Int)
    case maxPool(Window)
    case globalAveragePool
    /// Fully connected; inputs: x, weight (out × in), bias.
    case linear
    /// Mean softmax cross-entropy over the batch; inputs: logits, labels. Output: a scalar.
    case softmaxCrossEntropy
    /// A convolution weight with an inference batch norm folded in: w·γ/√(var+ε); inputs: w, γ, var.
    case foldBatchNormWeight(epsilon: Float)
    /// The bias that folding a batch norm leaves: β − mean·γ/√(var+ε); inputs: γ, β, mean, var.
    case foldBatchNormBias(epsilon: Float)

    // Training (built by `Differentiate`). Gradient ops take the output gradient first.

    /// Batch norm on the batch's own statistics (biased variance); inputs: x, γ, β.
    case batchNormTraining(BatchNormAttributes)
    /// The running mean after this batch: (1 − m)·old + m·batch mean; inputs: x, old mean.
    case runningMean(momentum: Float)
    /// The running variance after this batch, the batch's variance unbiased; inputs: x, old variance.
    case runningVariance(momentum: Float)
    /// d loss/d logits of the mean cross-entropy: (softmax − one-hot)/N; inputs: logits, labels.
    case softmaxCrossEntropyBackward
    /// d x of a fully connected layer: gy·W; inputs: gy, weight.
    case linearBackwardInput
    /// d W of a fully connected layer: gyᵀ·x; inputs: gy, x.
    case linearBackwardWeight
    /// Sum over the batch per column of N×C: a fully connected layer's bias gradient; input: gy.
    case channelSum
    /// d x of global average pooling back to `height`×`width`; input: gy.
    case globalAveragePoolBackward(height: Int, width: Int)
    /// d x of max pooling: each window's gradient to its first maximum; inputs: gy, x.
    case maxPoolBackward(Window)
    /// d x of ReLU: gy where the output is positive; inputs: gy, y.
    case reluBackward
    /// d x of the option A shortcut: the kept pixels' gradients, zero elsewhere; input: gy.
    case shortcutPadBackward(stride: Int, channels: Int, height: Int, width: Int)
    /// d γ of batch norm on batch statistics: Σ g·x̂ per channel; inputs: gy, x, then y if
    /// `relu` (g is gy masked by y > 0: the ReLU after the batch norm, differentiated in place).
    case batchNormScaleGradient(BatchNormBackward)
    /// d β of batch norm: Σ g per channel; inputs: gy, then y if `relu`.
    case batchNormShiftGradient(BatchNormBackward)
    /// d x of batch norm on batch statistics: γ·rstd/M·(M·g − dβ − x̂·dγ), M values per
    /// channel; inputs: gy, x, γ, dγ, dβ, then y if `relu`.
    case batchNormBackward(BatchNormBackward)
    /// d x of a convolution (its transpose) back to `height`×`width`; inputs: gy, weight.
    case conv2dBackwardInput(Convolution, height: Int, width: Int)
    /// d weight of a convolution: x correlated with gy; inputs: gy, x.
    case conv2dBackwardWeight(Convolution)

    /// The op's name in dumps and in generated kernel names.
    public var mnemonic: String {
        switch self {
        case .input: return "input"
        case .labels: return "labels"
        case .parameter(let kind): return "param." + kind.rawValue
        case .conv2d(let c): return c.epilogue.mnemonic
        case .batchNorm: return "batch_norm"
        case .relu: return "relu"
        case .add: return "add"
        case .shortcutPad: return "shortcut_pad"
        case .maxPool: return "max_pool"
        case .globalAveragePool: return "global_avg_pool"
        case .linear: return "linear"
        case .softmaxCrossEntropy: return "softmax_cross_entropy"
        case .foldBatchNormWeight: return "fold_bn_weight"
        case .foldBatchNormBias: return "fold_bn_bias"
        case .batchNormTraining: return "batch_norm_train"
        case .runningMean: return "running_mean"
        case .runningVariance: return "running_var"
        case .softmaxCrossEntropyBackward: return "softmax_cross_entropy_backward"
        case .linearBackwardInput: return "linear_backward_input"
        case .linearBackwardWeight: return "linear_backward_weight"
        case .channelSum: return "channel_sum"
        case .globalAveragePoolBackward: return "global_avg_pool_backward"
        case .maxPoolBackward: return "max_pool_backward"
        case .reluBackward: return "relu_backward"
        case .shortcutPadBackward: return "shortcut_pad_backward"
        case .batchNormScaleGradient(let b): return "batch_norm\(b.relu ? "_relu" : "")_scale_gradient"
        case .batchNormShiftGradient(let b): return "batch_norm\(b.relu ? "_relu" : "")_shift_gradient"
        case .batchNormBackward(let b): return "batch_norm\(b.relu ? "_relu" : "")_backward"
        case .conv2dBackwardInput: return "conv2d_backward_input"
        case .conv2dBackwardWeight: return "conv2d_backward_weight"
        }
    }

    /// Ops that hold data rather than compute it.
    public var isLeaf: Bool {
        switch self {
        case .input, .labels, .parameter: return true
        default: return false
        }
    }
}

/// What a parameter node holds; decides its initialisation and whether SGD updates it.
public enum ParameterKind: String, Sendable, Equatable, CaseIterable {
    case weight, bias
    /// Batch norm γ.
    case scale
    /// Batch norm β.
    case shift
    case runningMean = "running_mean"
    case runningVariance = "running_var"

    /// Running statistics are state, not parameters (they are not counted or trained).
    public var isTrainable: Bool { self != .runningMean && self != .runningVariance }
}

/// A square 2-D convolution and the work fused after it.
public struct Convolution: Sendable, Equatable {
    public var outChannels: Int
    public var kernel: Int
    public var stride: Int
    public var padding: Int
    public var epilogue: Epilogue

    public init(outChannels: Int, kernel: Int, stride: Int, padding: Int, epilogue: Epilogue = Epilogue()) {
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.epilogue = epilogue
    }
}

/// Elementwise work applied to a convolution's output before it is stored, in this order:
/// add bias, add residual, ReLU.
public struct Epilogue: Sendable, Equatable, Hashable {
    public var bias: Bool
    public var residual: Bool
    public var relu: Bool

    public init(bias: Bool = false, residual: Bool = false, relu: Bool = false) {
        self.bias = bias
        self.residual = residual
        self.relu = relu
    }

    /// `conv2d`, `conv2d_bias_relu`, `conv2d_bias_add_relu`, …
    public var mnemonic: String {
        "conv2d" + (bias ? "_bias" : "") + (residual ? "_add" : "") + (relu ? "_relu" : "")
    }
}

/// Batch norm's constants.
public struct BatchNormAttributes: Sendable, Equatable {
    public var epsilon: Float
    public var momentum: Float

    public init(epsilon: Float, momentum: Float) {
        self.epsilon = epsilon
        self.momentum = momentum
    }
}

/// What the backward ops of one batch norm share: its ε, and whether the ReLU that follows it
/// is differentiated in the same pass (its gradient masked by the ReLU's output, no separate
/// `relu_backward`), which `Differentiate` does wherever the batch norm's only reader is a ReLU.
public struct BatchNormBackward: Sendable, Equatable {
    public var epsilon: Float
    public var relu: Bool

    public init(epsilon: Float, relu: Bool) {
        self.epsilon = epsilon
        self.relu = relu
    }
}

/// A square pooling window.
public struct Window: Sendable, Equatable {
    public var kernel: Int
    public var stride: Int
    public var padding: Int

    public init(kernel: Int, stride: Int, padding: Int) {
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }
}
