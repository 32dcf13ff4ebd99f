import ResNetDiagnostics

/// A validated description of one residual (or plain) network and how to train it: everything
/// the paper varies is one field here. Produced only by `SpecLoader`, so its invariants hold.
public struct ModelSpec: Sendable, Equatable {
    public var name: String
    public var input: InputShape
    public var classes: Int
    /// The depth the author declared (`depth:`); already checked against the stages.
    public var declaredDepth: Int?
    public var stem: Stem
    public var block: BlockKind
    public var shortcut: ShortcutOption
    /// False for the paper's plain networks: the same stack with no shortcuts.
    public var residual: Bool
    public var stages: [Stage]
    public var head: Head
    public var batchNorm: BatchNormSettings
    public var initialization: Initialization
    public var data: DataSettings
    public var train: TrainSettings
    /// Seeds weight initialisation, shuffling and augmentation.
    public var seed: Int
    /// Where each value was written, keyed by its path (`stages[1].stride`), so later stages can
    /// report errors at the right line.
    public var locations: [String: SourceLocation]

    /// Weighted layers (convolutions on the main path plus the FC), the paper's "depth".
    public var depth: Int { 2 + stages.reduce(0) { $0 + $1.blocks } * block.convolutionsPerBlock }

    public static func == (a: ModelSpec, b: ModelSpec) -> Bool {
        a.name == b.name && a.input == b.input && a.classes == b.classes && a.declaredDepth == b.declaredDepth
            && a.stem == b.stem && a.block == b.block && a.shortcut == b.shortcut && a.residual == b.residual
            && a.stages == b.stages && a.head == b.head && a.batchNorm == b.batchNorm
            && a.initialization == b.initialization && a.data == b.data && a.train == b.train && a.seed == b.seed
    }

    /// The location of the value at `path`, or of its nearest written ancestor.
    public func location(of path: String) -> SourceLocation? {
        Self.location(of: path, in: locations)
    }

    static func location(of path: String, in locations: [String: SourceLocation]) -> SourceLocation? {
        var path = path
        while true {
            if let location = locations[path] { return location }
            guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) else { return locations[""] }
            path = String(path[..<cut])
        }
    }
}

/// The image the network takes, channels first.
public struct InputShape: Sendable, Equatable {
    public var channels: Int
    public var height: Int
    public var width: Int

    public init(channels: Int, height: Int, width: Int) {
        (self.channels, self.height, self.width) = (channels, height, width)
    }
}

/// The first convolution and the optional max pool after it (ImageNet nets have one, CIFAR nets don't).
public struct Stem: Sendable, Equatable {
    public var conv: ConvSettings
    public var pool: PoolSettings?
}

/// A square convolution's geometry.
public struct ConvSettings: Sendable, Equatable {
    public var filters: Int
    public var kernel: Int
    public var stride: Int
    public var padding: Int
}

/// A square max pool's geometry.
public struct PoolSettings: Sendable, Equatable {
    public var kernel: Int
    public var stride: Int
    public var padding: Int
}

/// Which residual block the stages stack.
public enum BlockKind: Sendable, Equatable {
    /// Two 3×3 convolutions (ResNet-18/34 and every CIFAR net).
    case basic
    /// 1×1 reduce, 3×3, 1×1 expand by `expansion`; the stride sits on the first 1×1 or the 3×3.
    case bottleneck(expansion: Int, strideAt: StrideAt)

    /// Convolutions on a block's main path.
    public var convolutionsPerBlock: Int {
        switch self {
        case .basic: return 2
        case .bottleneck: return 3
        }
    }

    /// How many channels a block with `filters` outputs.
    public func outputChannels(filters: Int) -> Int {
        switch self {
        case .basic: return filters
        case .bottleneck(let expansion, _): return filters * expansion
        }
    }
}

/// Where a downsampling bottleneck applies its stride.
public enum StrideAt: String, Sendable, Equatable, CaseIterable {
    /// On the first 1×1 convolution: the paper's (Caffe) v1 design.
    case first
    /// On the 3×3 convolution: torchvision's v1.5 design.
    case middle
}

/// The paper's three shortcut options (§3.3, Table 3).
public enum ShortcutOption: String, Sendable, Equatable, CaseIterable {
    /// A: identity; where dimensions grow, subsample by the stride and append zero channels.
    case A
    /// B: a 1×1 projection (+ BN) only where dimensions change, identity elsewhere.
    case B
    /// C: a 1×1 projection (+ BN) on every shortcut.
    case C
}

/// One stage (conv2_x … conv5_x): `blocks` blocks of `filters` width, the first one strided.
public struct Stage: Sendable, Equatable {
    public var filters: Int
    public var blocks: Int
    public var stride: Int
}

/// The classifier: global pooling, then a fully connected layer to `classes` logits.
public struct Head: Sendable, Equatable {
    /// The only global pooling the paper uses.
    public enum Pool: String, Sendable, Equatable, CaseIterable { case average }
    public var pool: Pool
}

/// Batch-norm constants shared by every BN layer.
public struct BatchNormSettings: Sendable, Equatable {
    public var epsilon: Double
    /// Weight of the new batch statistic in the running average (PyTorch's convention).
    public var momentum: Double
}

/// How fresh weights are drawn.
public struct Initialization: Sendable, Equatable {
    /// Which fan He-normal initialisation scales by.
    public enum FanMode: String, Sendable, Equatable, CaseIterable {
        case fanIn = "fan_in", fanOut = "fan_out"
    }
    public var fanMode: FanMode
    /// Start each block's last BN γ at zero, so every block begins as the identity.
    public var zeroInitLastBatchNorm: Bool
}

/// Which dataset a run reads and how its images are prepared.
public struct DataSettings: Sendable, Equatable {
    /// The datasets `resnetc run` can read.
    public enum Dataset: String, Sendable, Equatable, CaseIterable {
        case fashionMNIST = "fashion-mnist", cifar10
    }
    public var dataset: Dataset?
    /// Per-channel mean and std applied to pixels scaled to [0, 1]; nil means the dataset's default.
    public var mean: [Double]?
    public var std: [Double]?
    public var augment: Augmentation
}

/// The paper's training augmentation.
public struct Augmentation: Sendable, Equatable {
    /// Zero pixels added on each side before a random crop back to the input size (0 disables).
    public var pad: Int
    public var flip: Bool
}

/// The optimiser, its schedule and the run length.
public struct TrainSettings: Sendable, Equatable {
    /// The optimisers the code generator can emit.
    public enum Optimizer: String, Sendable, Equatable, CaseIterable { case sgd }
    public var optimizer: Optimizer
    public var learningRate: Double
    public var momentum: Double
    public var nesterov: Bool
    public var weightDecay: Double
    /// Decay batch norm's γ and β as well as conv and FC weights (common practice; the paper decays weights).
    public var decayBatchNorm: Bool
    /// In a data-parallel run, batch norm on the whole global batch's statistics (all-reduced
    /// per channel), so N processes compute what one would; per process otherwise, as PyTorch DDP.
    public var syncBatchNorm: Bool
    public var batchSize: Int
    public var length: RunLength
    public var schedule: LearningRateSchedule
    public var warmup: Warmup?
}

/// How long training runs, in the unit the author chose.
public enum RunLength: Sendable, Equatable {
    case epochs(Int)
    case iterations(Int)
}

/// A unit of training time, for milestones and warm-up.
public enum TrainingUnit: String, Sendable, Equatable, CaseIterable {
    case epoch, iteration
}

/// How the learning rate falls after warm-up.
public enum LearningRateSchedule: Sendable, Equatable {
    case constant
    /// Multiply by `gamma` at each milestone (the paper: ÷10 at 32k and 48k iterations).
    case step(milestones: [Int], gamma: Double, unit: TrainingUnit)
    /// Cosine decay from the base rate to zero over the run.
    case cosine
}

/// A low learning rate for the first iterations (the paper's ResNet-110 trick).
public struct Warmup: Sendable, Equatable {
    /// Constant holds `startLearningRate`, linear ramps from it to the base rate.
    public enum Shape: String, Sendable, Equatable, CaseIterable { case constant, linear }
    public var length: Int
    public var unit: TrainingUnit
    public var startLearningRate: Double
    public var shape: Shape
}
