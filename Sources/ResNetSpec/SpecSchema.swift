/// The spec language as data: every key, its type, range, default and meaning. The validator,
/// the `did you mean` suggestions, `resnetc schema` (JSON Schema) and docs/SpecFormat.md all read
/// this one table, so a key is added in exactly one place.
public indirect enum SchemaType: Sendable {
    case integer(min: Int, max: Int)
    /// A finite number in `min...max`; `exclusiveMin` excludes `min` itself.
    case number(min: Double, max: Double, exclusiveMin: Bool = false)
    case boolean
    case string
    /// One of a fixed set of words.
    case enumeration([String])
    case list(SchemaType, minCount: Int, maxCount: Int)
    case object([SchemaField])
    /// The type, or null to say "none" (a stem without a pool).
    case nullable(SchemaType)

    /// A phrase for "expected …" messages.
    public var expectation: String {
        switch self {
        case .integer(let min, let max):
            return max == Int.max ? "an integer ≥ \(min)" : "an integer from \(min) to \(max)"
        case .number: return "a number"
        case .boolean: return "true or false"
        case .string: return "a string"
        case .enumeration(let words): return "one of " + words.map { "'\($0)'" }.joined(separator: ", ")
        case .list(let element, _, _): return "a list of \(element.plural)"
        case .object: return "a mapping"
        case .nullable(let type): return type.expectation + " or null"
        }
    }

    fileprivate var plural: String {
        switch self {
        case .integer: return "integers"
        case .number: return "numbers"
        case .object: return "mappings"
        default: return "values"
        }
    }
}

/// One key of a mapping in the spec language.
public struct SchemaField: Sendable {
    public var name: String
    public var type: SchemaType
    public var required: Bool
    /// The default as the user would write it, or a phrase when it depends on other keys.
    public var defaultText: String?
    public var doc: String

    public init(_ name: String, _ type: SchemaType, required: Bool = false, default defaultText: String? = nil, _ doc: String) {
        self.name = name
        self.type = type
        self.required = required
        self.defaultText = defaultText
        self.doc = doc
    }
}

/// The root of the spec language.
public enum SpecSchema {
    static let positive = SchemaType.integer(min: 1, max: 1 << 20)
    static let stride = SchemaType.integer(min: 1, max: 64)
    static let kernel = SchemaType.integer(min: 1, max: 64)
    static let padding = SchemaType.integer(min: 0, max: 64)
    static let probability = SchemaType.number(min: 0, max: 1)
    static let positiveNumber = SchemaType.number(min: 0, max: 1e9, exclusiveMin: true)
    /// Blocks in all stages together: what `resnetc summary` lowers, differentiates and plans in
    /// a few seconds (ResNet-1202 has 600).
    public static let maxBlocks = 10_000

    public static let root = SchemaType.object([
        SchemaField("name", .string, default: "the file name", "A name for the network; reports and artifacts use it."),
        SchemaField("extends", .string, "Another spec file (relative to this one) whose keys this file overrides, key by key."),
        SchemaField("depth", .integer(min: 1, max: 1 << 20),
                    "The paper's depth (weighted layers); when given it must agree with the stages."),
        SchemaField("input", .object([
            SchemaField("channels", positive, required: true, "Image channels (3 for RGB, 1 for grey)."),
            SchemaField("height", positive, required: true, "Image height in pixels."),
            SchemaField("width", positive, required: true, "Image width in pixels."),
        ]), required: true, "The image the network takes."),
        SchemaField("classes", .integer(min: 1, max: 1 << 20), required: true, "Number of output classes."),
        SchemaField("stem", .object([
            SchemaField("conv", .object([
                SchemaField("filters", positive, required: true, "Output channels of the first convolution."),
                SchemaField("kernel", kernel, default: "3", "Kernel size (square)."),
                SchemaField("stride", stride, default: "1", "Stride."),
                SchemaField("padding", padding, default: "kernel / 2", "Zero padding on each side."),
            ]), required: true, "The first convolution (followed by BN and ReLU)."),
            SchemaField("pool", .nullable(.object([
                SchemaField("kernel", kernel, default: "3", "Max-pool window (square)."),
                SchemaField("stride", stride, default: "2", "Stride."),
                SchemaField("padding", padding, default: "1", "Padding on each side; at most kernel / 2."),
            ])), default: "null", "Optional max pool after the first convolution (ImageNet nets have one)."),
        ]), required: true, "Convolution and pooling before the stages."),
        SchemaField("block", .enumeration(["basic", "bottleneck"]), default: "basic",
                    "Basic: two 3×3 convs. Bottleneck: 1×1 reduce, 3×3, 1×1 expand."),
        SchemaField("expansion", .integer(min: 1, max: 64), default: "4",
                    "Bottleneck only: output channels are filters × expansion."),
        SchemaField("stride_at", .enumeration(StrideAt.allCases.map(\.rawValue)), default: "middle",
                    "Bottleneck only: stride on the first 1×1 (paper v1) or on the 3×3 (torchvision v1.5)."),
        SchemaField("shortcut", .enumeration(ShortcutOption.allCases.map(\.rawValue)), default: "B",
                    "A: identity with zero-padded channels; B: projection where dimensions change; C: projection everywhere."),
        SchemaField("residual", .boolean, default: "true", "False builds the paper's plain network (no shortcuts)."),
        SchemaField("stages", .list(.object([
            SchemaField("filters", positive, required: true, "Block width (bottleneck: the reduced width)."),
            SchemaField("blocks", .integer(min: 1, max: maxBlocks), required: true,
                        "Number of blocks; all stages together have at most \(maxBlocks)."),
            SchemaField("stride", stride, default: "1", "Stride of the stage's first block."),
        ]), minCount: 1, maxCount: 64), required: true, "The stages (conv2_x, conv3_x, …) in order."),
        SchemaField("head", .object([
            SchemaField("pool", .enumeration(Head.Pool.allCases.map(\.rawValue)), default: "average", "Global pooling before the FC layer."),
        ]), "Global pooling, then a fully connected layer to `classes` logits."),
        SchemaField("batch_norm", .object([
            SchemaField("eps", positiveNumber, default: "1e-5", "Added to the variance."),
            SchemaField("momentum", probability, default: "0.1", "Weight of the batch statistic in the running average."),
        ]), "Constants of every batch-norm layer."),
        SchemaField("init", .object([
            SchemaField("mode", .enumeration(Initialization.FanMode.allCases.map(\.rawValue)), default: "fan_out",
                        "Which fan He-normal initialisation divides by (torchvision uses fan_out)."),
            SchemaField("zero_init_last_bn", .boolean, default: "false", "Start each block's last BN γ at zero."),
        ]), "Weight initialisation: He normal for convolutions, BN γ = 1, β = 0."),
        SchemaField("seed", .integer(min: 0, max: Int(UInt32.max)), default: "0",
                    "Seeds initialisation, shuffling and augmentation."),
        SchemaField("data", .object([
            SchemaField("dataset", .enumeration(DataSettings.Dataset.allCases.map(\.rawValue)),
                        "The dataset `resnetc run` reads by default."),
            SchemaField("mean", .list(.number(min: -1e6, max: 1e6), minCount: 1, maxCount: 4096), default: "the dataset's",
                        "Per-channel mean subtracted from pixels scaled to [0, 1]."),
            SchemaField("std", .list(positiveNumber, minCount: 1, maxCount: 4096), default: "the dataset's",
                        "Per-channel standard deviation pixels are divided by."),
            SchemaField("augment", .object([
                SchemaField("pad", .integer(min: 0, max: 256), default: "0", "Pad each side by this many zero pixels, then crop randomly back."),
                SchemaField("flip", .boolean, default: "false", "Random horizontal flips."),
            ]), "Training augmentation (the paper: pad 4, flip)."),
        ]), "Dataset and preprocessing."),
        SchemaField("train", .object([
            SchemaField("optimizer", .enumeration(TrainSettings.Optimizer.allCases.map(\.rawValue)), default: "sgd", "The optimiser."),
            SchemaField("lr", positiveNumber, default: "0.1", "Base learning rate."),
            SchemaField("momentum", .number(min: 0, max: 1, exclusiveMin: false), default: "0.9", "SGD momentum (below 1)."),
            SchemaField("nesterov", .boolean, default: "false", "Nesterov momentum."),
            SchemaField("weight_decay", .number(min: 0, max: 1), default: "1e-4", "L2 weight decay."),
            SchemaField("decay_bn", .boolean, default: "true", "Apply weight decay to BN γ and β too."),
            SchemaField("sync_bn", .boolean, default: "false",
                        "Under mpirun: batch norm's statistics over the whole global batch, not each process's shard."),
            SchemaField("batch_size", .integer(min: 1, max: 1 << 16), default: "128", "Images per iteration."),
            SchemaField("epochs", .integer(min: 1, max: 1 << 20), default: "10 unless iterations is set", "Run length in epochs."),
            SchemaField("iterations", .integer(min: 1, max: 1 << 30), "Run length in iterations (instead of epochs)."),
            SchemaField("schedule", .object([
                SchemaField("type", .enumeration(["constant", "step", "cosine"]), default: "constant", "How the rate falls."),
                SchemaField("milestones", .list(.integer(min: 1, max: 1 << 30), minCount: 1, maxCount: 64),
                            "Step only: when to multiply the rate by gamma."),
                SchemaField("gamma", .number(min: 0, max: 1, exclusiveMin: true), default: "0.1", "Step only: the factor."),
                SchemaField("unit", .enumeration(TrainingUnit.allCases.map(\.rawValue)), default: "the run length's unit",
                            "Step only: what the milestones count."),
            ]), "Learning-rate schedule after warm-up."),
            SchemaField("warmup", .object([
                SchemaField("epochs", .integer(min: 1, max: 1 << 20), "Warm-up length in epochs."),
                SchemaField("iterations", .integer(min: 1, max: 1 << 30), "Warm-up length in iterations."),
                SchemaField("lr", positiveNumber, default: "lr / 10", "The rate warm-up starts at."),
                SchemaField("shape", .enumeration(Warmup.Shape.allCases.map(\.rawValue)), default: "linear",
                            "Constant holds the start rate (the paper's ResNet-110); linear ramps to the base rate."),
            ]), "Optional warm-up before the schedule."),
        ]), "The training recipe."),
    ])
}
