import ResNetDiagnostics

/// Builds a `ModelSpec` from a schema-validated tree, filling defaults, and runs the checks that
/// involve more than one key (blocks in all stages, depth against stages, bottleneck-only keys,
/// option A shrinking channels, mean/std against channels, schedule order). A value that failed
/// validation is left out of these checks so that one mistake is reported once.
struct SpecDecoder {
    let nodes: [String: YAMLNode]
    let locations: [String: SourceLocation]
    let defaultName: String
    private(set) var diagnostics: [Diagnostic] = []
    /// Set when a required value is missing or invalid: no spec can be built.
    private var incomplete = false

    init(validator: SchemaValidator, defaultName: String) {
        nodes = validator.validNodes
        locations = validator.locations
        self.defaultName = defaultName
    }

    mutating func decode() -> ModelSpec? {
        let input = InputShape(channels: required("input.channels"), height: required("input.height"),
                               width: required("input.width"))
        let classes = required("classes") as Int
        let stemConv = convSettings("stem.conv")
        let stemPool = nodes["stem.pool"].flatMap { $0.isNull ? nil : poolSettings("stem.pool") }
        let block = blockKind()
        let stages = stageList()
        let spec = ModelSpec(
            name: optional("name") ?? defaultName,
            input: input,
            classes: classes,
            declaredDepth: optional("depth"),
            stem: Stem(conv: stemConv, pool: stemPool),
            block: block,
            shortcut: ShortcutOption(rawValue: optional("shortcut") ?? "B")!,
            residual: optional("residual") ?? true,
            stages: stages,
            head: Head(pool: Head.Pool(rawValue: optional("head.pool") ?? "average")!),
            batchNorm: BatchNormSettings(epsilon: optional("batch_norm.eps") ?? 1e-5,
                                         momentum: optional("batch_norm.momentum") ?? 0.1),
            initialization: Initialization(
                fanMode: Initialization.FanMode(rawValue: optional("init.mode") ?? "fan_out")!,
                zeroInitLastBatchNorm: optional("init.zero_init_last_bn") ?? false),
            data: dataSettings(channels: input.channels),
            train: trainSettings(),
            seed: optional("seed") ?? 0,
            locations: locations)
        guard !incomplete else { return nil }
        checkStructure(spec)
        return spec
    }

    // MARK: Sections

    private mutating func convSettings(_ path: String) -> ConvSettings {
        let kernel: Int = optional("\(path).kernel") ?? 3
        return ConvSettings(filters: required("\(path).filters"), kernel: kernel,
                            stride: optional("\(path).stride") ?? 1, padding: optional("\(path).padding") ?? kernel / 2)
    }

    private mutating func poolSettings(_ path: String) -> PoolSettings {
        let pool = PoolSettings(kernel: optional("\(path).kernel") ?? 3, stride: optional("\(path).stride") ?? 2,
                                padding: optional("\(path).padding") ?? 1)
        if pool.padding > pool.kernel / 2 {
            report("\(path).padding", "pool padding \(pool.padding) is more than half the kernel (\(pool.kernel))",
                   hint: "a window would then see only padding; use padding ≤ \(pool.kernel / 2)")
        }
        return pool
    }

    private mutating func blockKind() -> BlockKind {
        let name: String = optional("block") ?? "basic"
        if name == "bottleneck" {
            return .bottleneck(expansion: optional("expansion") ?? 4,
                               strideAt: StrideAt(rawValue: optional("stride_at") ?? "middle")!)
        }
        for key in ["expansion", "stride_at"] where locations[key] != nil {
            report(key, "'\(key)' applies only to bottleneck blocks, but this network uses basic blocks",
                   hint: "remove '\(key)', or set 'block: bottleneck'")
        }
        return .basic
    }

    private mutating func stageList() -> [Stage] {
        guard nodes["stages"] != nil, case let .sequence(items)? = nodes["stages"]?.value else {
            incomplete = true
            return []
        }
        return items.indices.map { i in
            Stage(filters: required("stages[\(i)].filters"), blocks: required("stages[\(i)].blocks"),
                  stride: optional("stages[\(i)].stride") ?? 1)
        }
    }

    private mutating func dataSettings(channels: Int) -> DataSettings {
        let mean: [Double]? = numbers("data.mean")
        let std: [Double]? = numbers("data.std")
        for (key, values) in [("data.mean", mean), ("data.std", std)] {
            if let values, channels > 0, values.count != channels {
                report(key, "'\(key)' has \(values.count) value\(values.count == 1 ? "" : "s") but the input has \(channels) channel\(channels == 1 ? "" : "s")",
                       hint: "give one value per input channel")
            }
        }
        return DataSettings(
            dataset: (optional("data.dataset") as String?).flatMap(DataSettings.Dataset.init(rawValue:)),
            mean: mean, std: std,
            augment: Augmentation(pad: optional("data.augment.pad") ?? 0, flip: optional("data.augment.flip") ?? false))
    }

    private mutating func trainSettings() -> TrainSettings {
        let length: RunLength
        let lengthUnit: TrainingUnit
        if let iterations: Int = optional("train.iterations") {
            length = .iterations(iterations)
            lengthUnit = .iteration
            if locations["train.epochs"] != nil {
                report("train.epochs", "give the run length as 'epochs' or 'iterations', not both")
            }
        } else {
            length = .epochs(optional("train.epochs") ?? 10)
            lengthUnit = .epoch
        }
        let lr: Double = optional("train.lr") ?? 0.1
        let momentum: Double = optional("train.momentum") ?? 0.9
        if momentum >= 1 { report("train.momentum", "'train.momentum' must be below 1, found \(momentum)") }
        let nesterov: Bool = optional("train.nesterov") ?? false
        if nesterov && momentum == 0 {
            report("train.nesterov", "Nesterov momentum needs 'train.momentum' above 0")
        }
        return TrainSettings(
            optimizer: .sgd, learningRate: lr, momentum: momentum, nesterov: nesterov,
            weightDecay: optional("train.weight_decay") ?? 1e-4,
            decayBatchNorm: optional("train.decay_bn") ?? true,
            syncBatchNorm: optional("train.sync_bn") ?? false,
            batchSize: optional("train.batch_size") ?? 128,
            length: length,
            schedule: schedule(lengthUnit: lengthUnit, length: length),
            warmup: warmup(baseRate: lr))
    }

    private mutating func schedule(lengthUnit: TrainingUnit, length: RunLength) -> LearningRateSchedule {
        let type: String = optional("train.schedule.type") ?? "constant"
        let milestones: [Int]? = integers("train.schedule.milestones")
        if type != "step" {
            for key in ["milestones", "gamma", "unit"] where locations["train.schedule.\(key)"] != nil {
                report("train.schedule.\(key)", "'\(key)' applies only to 'type: step' schedules, not '\(type)'",
                       hint: "remove it, or set 'train.schedule.type: step'")
            }
        }
        switch type {
        case "step":
            guard let milestones else {
                if locations["train.schedule.milestones"] == nil {
                    report("train.schedule", "a step schedule needs 'milestones'",
                           hint: "for example 'milestones: [32000, 48000]' with 'unit: iteration'")
                }
                return .constant
            }
            if zip(milestones, milestones.dropFirst()).contains(where: { $0 >= $1 }) {
                report("train.schedule.milestones", "milestones must increase strictly, found \(milestones)")
            }
            let unit = TrainingUnit(rawValue: optional("train.schedule.unit") ?? lengthUnit.rawValue)!
            if unit == lengthUnit, let last = milestones.last {
                let total: Int
                switch length { case .epochs(let n), .iterations(let n): total = n }
                if last > total {
                    report("train.schedule.milestones", "milestone \(last) comes after the run ends (\(total) \(unit.rawValue)s)")
                }
            }
            return .step(milestones: milestones, gamma: optional("train.schedule.gamma") ?? 0.1, unit: unit)
        case "cosine":
            return .cosine
        default:
            return .constant
        }
    }

    private mutating func warmup(baseRate: Double) -> Warmup? {
        guard locations["train.warmup"] != nil else { return nil }
        let epochs: Int? = optional("train.warmup.epochs")
        let iterations: Int? = optional("train.warmup.iterations")
        if epochs != nil, iterations != nil {
            report("train.warmup.iterations", "give the warm-up length as 'epochs' or 'iterations', not both")
        }
        guard let length = iterations ?? epochs else {
            if locations["train.warmup.epochs"] == nil, locations["train.warmup.iterations"] == nil {
                report("train.warmup", "a warm-up needs a length: 'iterations: N' or 'epochs: N'",
                       hint: "the paper warms ResNet-110 up for 400 iterations at lr 0.01")
            }
            return nil
        }
        let start: Double = optional("train.warmup.lr") ?? baseRate / 10
        if start > baseRate {
            report("train.warmup.lr", "the warm-up rate \(start) is above the base rate \(baseRate)")
        }
        return Warmup(length: length, unit: iterations != nil ? .iteration : .epoch, startLearningRate: start,
                      shape: Warmup.Shape(rawValue: optional("train.warmup.shape") ?? "linear")!)
    }

    // MARK: Checks across keys

    private mutating func checkStructure(_ spec: ModelSpec) {
        var blocks = 0
        for (i, stage) in spec.stages.enumerated() {
            blocks += stage.blocks
            guard blocks > SpecSchema.maxBlocks else { continue }
            let total = spec.stages.reduce(0) { $0 + $1.blocks }
            report("stages[\(i)].blocks", "the stages have \(total) blocks in all; at most \(SpecSchema.maxBlocks) are allowed",
                   hint: "stages[0] through stages[\(i)] add up to \(blocks); ResNet-1202 has 600")
            break
        }
        if let declared = spec.declaredDepth, declared != spec.depth {
            let blocks = spec.stages.map { String($0.blocks) }.joined(separator: "+")
            let perBlock = spec.block.convolutionsPerBlock
            report("depth", "depth \(declared) contradicts the stages, which give depth \(spec.depth)",
                   hint: "\(perBlock) convolutions × (\(blocks)) blocks + stem conv + FC = \(spec.depth); fix 'depth' or the blocks")
        }
        guard spec.residual, spec.shortcut == .A else { return }
        var channels = spec.stem.conv.filters
        for (i, stage) in spec.stages.enumerated() {
            let out = spec.block.outputChannels(filters: stage.filters)
            if out < channels {
                report("stages[\(i)].filters",
                       "shortcut A cannot shrink \(channels) channels to \(out): it only appends zero channels",
                       hint: "use 'shortcut: B' or 'C' (a projection), or keep the channels from falling")
            }
            channels = out
        }
    }

    // MARK: Reading validated values

    private mutating func required<T: SpecScalar>(_ path: String) -> T {
        if let value: T = optional(path) { return value }
        incomplete = true
        return T.placeholder
    }

    private func optional<T: SpecScalar>(_ path: String) -> T? {
        guard let node = nodes[path], let text = node.scalarText, !node.isNull else { return nil }
        return T(specText: text)
    }

    private func numbers(_ path: String) -> [Double]? {
        guard case let .sequence(items)? = nodes[path]?.value else { return nil }
        let values = items.indices.compactMap { optional("\(path)[\($0)]") as Double? }
        return values.count == items.count ? values : nil
    }

    private func integers(_ path: String) -> [Int]? {
        guard case let .sequence(items)? = nodes[path]?.value else { return nil }
        let values = items.indices.compactMap { optional("\(path)[\($0)]") as Int? }
        return values.count == items.count ? values : nil
    }

    private mutating func report(_ path: String, _ message: String, hint: String? = nil) {
        diagnostics.append(.error(at: ModelSpec.location(of: path, in: locations), message, hint: hint))
    }
}

/// A Swift type a validated scalar converts to.
protocol SpecScalar {
    init?(specText: String)
    /// Stands in for a missing required value while the rest of the spec is still checked.
    static var placeholder: Self { get }
}

extension Int: SpecScalar {
    init?(specText: String) {
        guard let value = ScalarParsing.integer(specText) else { return nil }
        self = value
    }
    static var placeholder: Int { 1 }
}

extension Double: SpecScalar {
    init?(specText: String) {
        guard let value = ScalarParsing.number(specText) else { return nil }
        self = value
    }
    static var placeholder: Double { 0 }
}

extension Bool: SpecScalar {
    init?(specText: String) {
        guard let value = ScalarParsing.boolean(specText) else { return nil }
        self = value
    }
    static var placeholder: Bool { false }
}

extension String: SpecScalar {
    init?(specText: String) { self = specText }
    static var placeholder: String { "" }
}
