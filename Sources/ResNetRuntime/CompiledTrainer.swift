import Foundation
import ResNetCodegen
import ResNetIR
import ResNetPasses

/// A generated training step loaded with dlopen: flat parameter, gradient and momentum regions,
/// `step` for forward and backward, `sgd` for the update.
public final class CompiledTrainer {
    private typealias StepFunction = @convention(c) (OpaquePointer?, Int32, UnsafePointer<Float>, UnsafePointer<Int32>,
                                                     UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?) -> Int32
    private typealias SGDFunction = @convention(c) (OpaquePointer?, Float, Float, Float, Float, Int32) -> Void
    private typealias RegionFunction = @convention(c) (OpaquePointer?) -> UnsafeMutablePointer<Float>

    private let trainer: OpaquePointer
    private let stepFunction: StepFunction
    private let sgdFunction: SGDFunction
    private let destroy: @convention(c) (OpaquePointer?) -> Void
    public let parameterFloats: Int
    public let inputFloats: Int
    public let outputFloats: Int
    public let maxBatch: Int
    /// The flat regions, valid while the trainer lives.
    public let parameters: UnsafeMutableBufferPointer<Float>
    public let gradients: UnsafeMutableBufferPointer<Float>
    public let momentum: UnsafeMutableBufferPointer<Float>
    private let setThreads: @convention(c) (Int32) -> Void
    /// The C signature of an all-reduce mean hook (`rc_trainer_set_average`).
    public typealias AverageFunction = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<Double>?, Int32) -> Void
    private let setAverageFunction: @convention(c) (OpaquePointer?, AverageFunction?, UnsafeMutableRawPointer?, Int32) -> Void

    public init(library: String, maxBatch: Int) throws {
        let library = try SharedLibrary(library)
        func symbol<T>(_ name: String, as type: T.Type) throws -> T { try library.function(name, as: type) }
        typealias Size = @convention(c) () -> Int
        parameterFloats = try symbol("rc_param_floats", as: Size.self)()
        inputFloats = try symbol("rc_input_floats", as: Size.self)()
        outputFloats = try symbol("rc_output_floats", as: Size.self)()
        stepFunction = try symbol("rc_train_step", as: StepFunction.self)
        sgdFunction = try symbol("rc_sgd_step", as: SGDFunction.self)
        destroy = try symbol("rc_trainer_destroy", as: (@convention(c) (OpaquePointer?) -> Void).self)
        setThreads = try symbol("rc_set_threads", as: (@convention(c) (Int32) -> Void).self)
        setAverageFunction = try symbol("rc_trainer_set_average",
                                        as: (@convention(c) (OpaquePointer?, AverageFunction?, UnsafeMutableRawPointer?, Int32) -> Void).self)
        guard let batch = Int32(exactly: maxBatch), batch >= 1 else { throw RuntimeError("a training batch of \(maxBatch) images is out of range") }
        guard let trainer = try symbol("rc_trainer_create", as: (@convention(c) (Int32) -> OpaquePointer?).self)(batch) else {
            throw RuntimeError("cannot allocate a trainer for batch \(maxBatch): out of memory")
        }
        self.trainer = trainer
        self.maxBatch = maxBatch
        let count = parameterFloats
        parameters = UnsafeMutableBufferPointer(start: try symbol("rc_trainer_params", as: RegionFunction.self)(trainer), count: count)
        gradients = UnsafeMutableBufferPointer(start: try symbol("rc_trainer_grads", as: RegionFunction.self)(trainer), count: count)
        momentum = UnsafeMutableBufferPointer(start: try symbol("rc_trainer_momentum", as: RegionFunction.self)(trainer), count: count)
    }

    deinit { destroy(trainer) }

    public func setThreadCount(_ threads: Int) { setThreads(Int32(clamping: threads)) }

    /// Hands the step the all-reduce mean over `ranks` processes that sync batch norm calls.
    public func setAverage(_ average: AverageFunction?, ranks: Int) {
        setAverageFunction(trainer, average, nil, Int32(clamping: ranks))
    }

    /// Forward and backward on one batch: returns the loss, fills `logits` if given.
    public func step(images: [Float], labels: [Int32], logits: inout [Float]) throws -> Float {
        let n = labels.count
        guard n >= 1, n <= maxBatch, images.count == n * inputFloats else {
            throw RuntimeError("a training batch of \(n) images (\(images.count) floats) does not fit batch \(maxBatch)")
        }
        if logits.count != n * outputFloats { logits = [Float](repeating: 0, count: n * outputFloats) }
        var loss: Float = 0
        let status = images.withUnsafeBufferPointer { i in labels.withUnsafeBufferPointer { l in logits.withUnsafeMutableBufferPointer { o in
            stepFunction(trainer, Int32(n), i.baseAddress!, l.baseAddress!, &loss, o.baseAddress)
        } } }
        guard status == 0 else { throw RuntimeError(status == -2 ? "a label is outside 0..<\(outputFloats)" : "rc_train_step rejected a batch of \(n)") }
        return loss
    }

    public func sgd(learningRate: Float, momentum: Float, weightDecay: Float, batchNormWeightDecay: Float, nesterov: Bool) {
        sgdFunction(trainer, learningRate, momentum, weightDecay, batchNormWeightDecay, nesterov ? 1 : 0)
    }
}

/// A lowered forward graph (with its loss) taken through differentiation, memory planning,
/// training code generation and the C compiler.
public struct TrainingBuild {
    public let training: TrainingGraph
    public let plan: MemoryPlan
    public let source: TrainingSource
    public let library: String

    public static func build(_ forward: Graph, compiler: CCompiler, syncBatchNorm: Bool = false) throws -> TrainingBuild {
        let training: TrainingGraph
        let plan: MemoryPlan
        let source: TrainingSource
        do {
            training = try Differentiate.run(forward)
            let target = compiler.target.codegen
            plan = PlanMemory.run(training.graph, layout: target.layout)
            source = try TrainingCodeGenerator.generate(training, plan: plan, target: target, syncBatchNorm: syncBatchNorm)
        } catch let error as ShapeError {
            throw RuntimeError("internal compiler error while differentiating: \(error)")
        } catch {
            throw RuntimeError("training code generation failed: \(error)")
        }
        let library = try compiler.compileSharedLibrary(source: source.c, header: source.header, headerName: "train.h").path
        return TrainingBuild(training: training, plan: plan, source: source, library: library)
    }

    /// The flat parameter region holding `values` (by state-dict name), in the layout of
    /// `source.parameters`.
    public func parameterRegion(_ values: ParameterValues) throws -> [Float] {
        var region = [Float](repeating: 0, count: source.parameterFloats)
        for p in source.parameters {
            guard let v = values.tensors[p.name], v.count == p.dims.reduce(1, *) else { throw RuntimeError("no value for '\(p.name)'") }
            region.replaceSubrange(p.offset..<(p.offset + v.count), with: v)
        }
        return region
    }

    /// Copies parameter values (by state-dict name) into a trainer's flat region.
    public func load(_ values: ParameterValues, into trainer: CompiledTrainer) throws {
        let region = try parameterRegion(values)
        guard region.count == trainer.parameters.count else {
            throw RuntimeError("the trainer's parameter region holds \(trainer.parameters.count) floats, not \(region.count)")
        }
        _ = trainer.parameters.update(fromContentsOf: region)
    }

    /// The trainer's flat region as named tensors.
    public func values(of region: UnsafeMutableBufferPointer<Float>) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: source.parameters.map { p in (p.name, Array(region[p.offset..<(p.offset + p.dims.reduce(1, *))])) })
    }
}
