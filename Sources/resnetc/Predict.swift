import ArgumentParser
import Foundation
import ResNetIR
import ResNetRuntime

/// `resnetc predict SPEC_OR_ARTIFACT --image a.png …` (top classes by name) or `--input X.npy
/// --output Y.npy` (logits of already normalised images).
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a compiled model on PNG/JPEG images (prints each one's top classes) or on NCHW float32 images (.npy, already normalised, writes the logits).")

    @Argument(help: "A spec (YAML) or an artifact directory written by `resnetc compile`.")
    var model: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a spec key, value read as YAML.", valueName: "key=value"))
    var overrides: [String] = []

    @OptionGroup var modelOptions: ModelOptions

    @Option(parsing: .upToNextOption, help: ArgumentHelp("PNG or JPEG files, resized and centre-cropped to the model's input and normalised as it was trained.",
                                                        valueName: "file"))
    var image: [String] = []

    @Option(help: "With --image: how many classes to show per image.")
    var top = 5

    @Flag(help: "With --image: print [{\"image\": …, \"top\": [{\"class\": …, \"index\": …, \"probability\": …}]}].")
    var json = false

    @Option(help: ArgumentHelp("With --image and a spec: class names, one per line in label order.", valueName: "file"))
    var classes: String?

    @Option(help: "Images: float32 .npy of shape (N, C, H, W).")
    var input: String?

    @Option(help: "Where to write the logits: float32 .npy of shape (N, classes).")
    var output: String?

    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    @Option(help: "Images per forward call.")
    var batch = 64

    func validate() throws {
        try CountOption.batch.validate(batch)
        try CountOption.threads.validate(threads)
        guard image.isEmpty != (input == nil) else { throw ValidationError("give --image FILE… or --input X.npy --output Y.npy (one of them)") }
        if input != nil, output == nil { throw ValidationError("--input needs --output, the .npy file the logits go to") }
        if input != nil, json || classes != nil { throw ValidationError("--json and --classes go with --image; --input writes logits to --output") }
        if !image.isEmpty, output != nil { throw ValidationError("--output goes with --input; --image prints its results (--json for machines)") }
        guard (1...1000).contains(top) else { throw ValidationError("--top must be from 1 to 1000, not \(top)") }
    }

    func run() throws {
        let loaded: CompiledModel
        let inputDims: [Int]
        let data: DataDescription?
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), isDirectory.boolValue {
            if modelOptions.weights != nil || !overrides.isEmpty || classes != nil {
                throw fail(RuntimeError("\(model) is a compiled artifact with its weights and class names packed in; --weights, --set and --classes apply to specs"))
            }
            do {
                let artifact = try Artifact.load(model, maxBatch: batch)
                (loaded, inputDims, data) = (artifact.model, artifact.manifest.input, artifact.manifest.data)
            } catch { throw fail(error) }
        } else {
            let frontEnd = try SpecOptions.parse([model] + overrides.flatMap { ["--set", $0] }).frontEnd()
            do {
                let build = try InferenceBuild.build(frontEnd.graph!, compiler: try modelOptions.compiler())
                let values = try modelOptions.parameterValues(for: frontEnd.graph!, spec: frontEnd.spec!)
                loaded = try build.load(values, maxBatch: batch).model
                inputDims = build.source.inputDims
                data = try image.isEmpty ? nil : DataDescription.forModel(spec: frontEnd.spec!, weights: modelOptions.weights, classNamesFile: classes)
            } catch { throw fail(error) }
        }
        if let threads { loaded.setThreadCount(threads) }
        do {
            if let input, let output {
                try predictArrays(loaded, input: input, output: output, inputDims: inputDims)
            } else {
                guard let data else {
                    throw RuntimeError("\(model) does not say how its inputs are normalised: compile it with --weights from `resnetc run`, "
                                       + "or set data.mean and data.std in the spec")
                }
                try predictImages(loaded, inputDims: inputDims, data: data)
            }
        } catch { throw fail(error) }
    }

    /// Logits of a .npy batch, written as .npy.
    private func predictArrays(_ loaded: CompiledModel, input: String, output: String, inputDims: [Int]) throws {
        let images = try NumPyArray.readImages(input, imageDims: inputDims)
        if let bad = images.values.firstIndex(where: { !$0.isFinite }) {
            let perImage = inputDims.reduce(1, *)
            throw RuntimeError("\(input): image \(bad / perImage) holds \(images.values[bad]) at float \(bad % perImage); inputs must be finite")
        }
        let logits = try loaded.forward(images.values, count: images.shape[0])
        try AtomicFile.write(NumPyArray(shape: [images.shape[0], loaded.outputFloats], values: logits).serialized(), to: output)
    }

    /// One result of `--image`: the file and its most probable classes.
    struct ImagePrediction: Encodable {
        /// A class and its softmax probability.
        struct Choice: Encodable {
            var `class`: String
            var index: Int
            var probability: Double
        }
        var image: String
        var top: [Choice]
    }

    /// Each image's top classes by name, printed as text or JSON.
    private func predictImages(_ loaded: CompiledModel, inputDims: [Int], data: DataDescription) throws {
        guard inputDims.count == 3, inputDims[0] == 1 || inputDims[0] == 3 else {
            throw RuntimeError("--image needs a model whose input is 1 (grey) or 3 (RGB) channels; this one takes \(inputDims)")
        }
        let (channels, height, width) = (inputDims[0], inputDims[1], inputDims[2])
        var results: [ImagePrediction] = []
        for start in stride(from: 0, to: image.count, by: batch) {
            let files = Array(image[start..<min(start + batch, image.count)])
            var pixels: [UInt8] = []
            for file in files { pixels += try ImageFile.planes(path: file, channels: channels, height: height, width: width) }
            let images = LabeledImages(channels: channels, height: height, width: width, classes: data.classes.count, pixels: pixels,
                                       labels: [Int32](repeating: 0, count: files.count), classNames: data.classes)
            let logits = try loaded.forward(images.normalizedBatch(0..<files.count, mean: data.mean, std: data.std), count: files.count)
            let classes = loaded.outputFloats
            for (row, file) in files.enumerated() {
                let scores = logits[(row * classes)..<((row + 1) * classes)].map(Double.init)
                let highest = scores.max()!
                let weights = scores.map { Foundation.exp($0 - highest) }
                let total = weights.reduce(0, +)
                let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(top)
                results.append(ImagePrediction(image: file, top: order.map {
                    ImagePrediction.Choice(class: data.classes[$0], index: $0, probability: weights[$0] / total)
                }))
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
        } else {
            for result in results {
                print(result.image)
                for choice in result.top { print(String(format: "  %6.2f%%  %@", 100 * choice.probability, choice.class)) }
            }
        }
    }
}
