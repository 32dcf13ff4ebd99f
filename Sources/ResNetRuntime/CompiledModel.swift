import Foundation

/// A generated model loaded with dlopen: packs weights, runs batches. One instance owns one
/// `rc_model` (packed weights plus an arena for `maxBatch` images).
public final class CompiledModel {
    private typealias PackFunction = @convention(c) (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Int32
    private typealias CreateFunction = @convention(c) (UnsafePointer<Float>, Int32) -> OpaquePointer?
    private typealias DestroyFunction = @convention(c) (OpaquePointer?) -> Void
    private typealias ForwardFunction = @convention(c) (OpaquePointer?, Int32, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Int32
    private typealias SizeFunction = @convention(c) () -> Int
    private typealias ThreadsFunction = @convention(c) (Int32) -> Void

    /// The ABI version this runtime speaks (RC_ABI_VERSION in model.h).
    public static let abiVersion = 1

    private let pack: PackFunction
    private let create: CreateFunction
    private let destroy: DestroyFunction
    private let forwardFunction: ForwardFunction
    private let setThreads: ThreadsFunction
    private var model: OpaquePointer?

    /// The spec's model name, as the generated C returns it.
    public let name: String
    public let rawFloatCount: Int
    public let packedFloatCount: Int
    public let inputFloats: Int
    public let outputFloats: Int
    public private(set) var maxBatch = 0

    public init(library: String) throws {
        let library = try SharedLibrary(library)
        func symbol<T>(_ name: String, as type: T.Type) throws -> T { try library.function(name, as: type) }
        let abi = try symbol("rc_abi_version", as: (@convention(c) () -> Int32).self)()
        guard abi == Self.abiVersion else {
            throw RuntimeError("\(library.path) speaks model ABI \(abi), this resnetc speaks \(Self.abiVersion); recompile it")
        }
        pack = try symbol("rc_pack", as: PackFunction.self)
        create = try symbol("rc_create", as: CreateFunction.self)
        destroy = try symbol("rc_destroy", as: DestroyFunction.self)
        forwardFunction = try symbol("rc_forward", as: ForwardFunction.self)
        setThreads = try symbol("rc_set_threads", as: ThreadsFunction.self)
        name = String(cString: try symbol("rc_model_name", as: (@convention(c) () -> UnsafePointer<CChar>).self)())
        rawFloatCount = try symbol("rc_raw_param_floats", as: SizeFunction.self)()
        packedFloatCount = try symbol("rc_packed_param_floats", as: SizeFunction.self)()
        inputFloats = try symbol("rc_input_floats", as: SizeFunction.self)()
        outputFloats = try symbol("rc_output_floats", as: SizeFunction.self)()
    }

    deinit { destroy(model) }

    /// Raw parameters (state-dict order) to the packed layout.
    public func packWeights(_ raw: [Float]) throws -> [Float] {
        guard raw.count == rawFloatCount else { throw RuntimeError("the model takes \(rawFloatCount) raw parameters, given \(raw.count)") }
        var packed = [Float](repeating: 0, count: packedFloatCount)
        let status = raw.withUnsafeBufferPointer { r in packed.withUnsafeMutableBufferPointer { pack(r.baseAddress!, $0.baseAddress!) } }
        guard status == 0 else { throw RuntimeError("packing weights failed: out of memory") }
        if let bad = packed.firstIndex(where: { !$0.isFinite }) {
            throw RuntimeError("packing the weights gave \(packed[bad]) at packed float \(bad): a weight scaled by its batch norm "
                               + "(gamma / sqrt(running_var + eps)) does not fit float32")
        }
        return packed
    }

    /// Installs packed weights and an arena for up to `maxBatch` images.
    public func load(packed: [Float], maxBatch: Int) throws {
        guard packed.count == packedFloatCount else {
            throw RuntimeError("the model takes \(packedFloatCount) packed floats, given \(packed.count)")
        }
        destroy(model)
        guard let batch = Int32(exactly: maxBatch), batch >= 1 else { throw RuntimeError("a batch of \(maxBatch) images is out of range") }
        model = packed.withUnsafeBufferPointer { create($0.baseAddress!, batch) }
        guard model != nil else { throw RuntimeError("cannot allocate the model for batch \(maxBatch): out of memory") }
        self.maxBatch = maxBatch
    }

    public func setThreadCount(_ threads: Int) { setThreads(Int32(clamping: threads)) }

    /// Runs `count` images (NCHW float32, `inputFloats` each) and returns `outputFloats` per image,
    /// in chunks of at most `maxBatch`. Non-finite logits are an error naming the image: they are
    /// never handed on as if they were a prediction.
    public func forward(_ input: [Float], count: Int) throws -> [Float] {
        guard model != nil else { throw RuntimeError("no weights loaded") }
        guard input.count == count * inputFloats else { throw RuntimeError("expected \(count * inputFloats) input floats, given \(input.count)") }
        var output = [Float](repeating: 0, count: count * outputFloats)
        var start = 0
        while start < count {
            let n = min(maxBatch, count - start)
            let status = input.withUnsafeBufferPointer { i in
                output.withUnsafeMutableBufferPointer { o in
                    forwardFunction(model, Int32(n), i.baseAddress! + start * inputFloats, o.baseAddress! + start * outputFloats)
                }
            }
            guard status == 0 else { throw RuntimeError("rc_forward rejected a batch of \(n)") }
            if let bad = output[(start * outputFloats)..<((start + n) * outputFloats)].firstIndex(where: { !$0.isFinite }) {
                throw RuntimeError("the logits of image \(bad / outputFloats) are not finite (\(output[bad])): "
                                   + "the weights or the input overflow float32")
            }
            start += n
        }
        return output
    }
}
