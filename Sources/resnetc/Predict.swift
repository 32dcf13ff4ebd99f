import ArgumentParser
import Foundation
import ResNetIR
import ResNetRuntime

/// `resnetc predict SPEC_OR_ARTIFACT --input X.npy --output Y.npy`: logits for a batch of images.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a compiled model on NCHW float32 images (.npy, already normalised) and write the logits (.npy).")

    @Argument(help: "A spec (YAML) or an artifact directory written by `resnetc compile`.")
    var model: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a spec key, value read as YAML.", valueName: "key=value"))
    var overrides: [String] = []

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Images: float32 .npy of shape (N, C, H, W).")
    var input: String

    @Option(help: "Where to write the logits: float32 .npy of shape (N, classes).")
    var output: String

    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    @Option(help: "Images per forward call.")
    var batch = 64

    func validate() throws {
        try CountOption.batch.validate(batch)
        try CountOption.threads.validate(threads)
    }

    func run() throws {
        let loaded: CompiledModel
        let inputDims: [Int]
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), isDirectory.boolValue {
            if modelOptions.weights != nil || !overrides.isEmpty {
                throw fail(RuntimeError("\(model) is a compiled artifact with its weights packed in; --weights and --set apply to specs"))
            }
            do {
                let artifact = try Artifact.load(model, maxBatch: batch)
                (loaded, inputDims) = (artifact.model, artifact.manifest.input)
            } catch { throw fail(error) }
        } else {
            let frontEnd = try SpecOptions.parse([model] + overrides.flatMap { ["--set", $0] }).frontEnd()
            do {
                let build = try InferenceBuild.build(frontEnd.graph!, compiler: try modelOptions.compiler())
                let values = try modelOptions.parameterValues(for: frontEnd.graph!, spec: frontEnd.spec!)
                loaded = try build.load(values, maxBatch: batch).model
                inputDims = build.source.inputDims
            } catch { throw fail(error) }
        }
        do {
            let images = try NumPyArray.readImages(input, imageDims: inputDims)
            if let bad = images.values.firstIndex(where: { !$0.isFinite }) {
                let perImage = inputDims.reduce(1, *)
                throw RuntimeError("\(input): image \(bad / perImage) holds \(images.values[bad]) at float \(bad % perImage); inputs must be finite")
            }
            if let threads { loaded.setThreadCount(threads) }
            let logits = try loaded.forward(images.values, count: images.shape[0])
            try AtomicFile.write(NumPyArray(shape: [images.shape[0], loaded.outputFloats], values: logits).serialized(), to: output)
        } catch { throw fail(error) }
    }
}
