import Foundation
import ResNetDiagnostics
import ResNetSpec

/// What a trained model expects of its inputs and calls its outputs: the per-channel
/// normalisation of pixels in [0, 1] and one name per class. `resnetc run` stores it in the
/// metadata of the weights it writes (key `data`, as JSON) so that `eval`, `compile` and
/// `predict` prepare images exactly as training did; `compile` puts it in the manifest.
public struct DataDescription: Codable, Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]
    public var classes: [String]

    public static let metadataKey = "data"

    public init(mean: [Float], std: [Float], classes: [String]) {
        (self.mean, self.std, self.classes) = (mean, std, classes)
    }

    /// The description for a model of `outputs` classes trained on data named `names` (fewer
    /// names than outputs: the rest are numbered).
    public init(mean: [Float], std: [Float], names: [String], outputs: Int) {
        self.init(mean: mean, std: std, classes: Array(names.prefix(outputs)) + (names.count..<max(outputs, names.count)).map(String.init))
    }

    /// What a compiled model of `spec` records about its data: the weights' own description
    /// (written by `resnetc run`), else the spec's `data.mean`/`data.std` or its dataset's
    /// published statistics with that dataset's class names; nil when none of these says how
    /// inputs are normalised. The spec's mean and std win over the weights', as in `eval`, and a
    /// class-names file over any names.
    public static func forModel(spec: ModelSpec, weights: String?, classNamesFile: String?) throws -> DataDescription? {
        let published: DatasetSource? = spec.data.dataset.map { DatasetSource(kind: $0 == .fashionMNIST ? .fashionMNIST : .cifar10, directory: "") }
        var description = try weights.flatMap { try read(weights: $0) }
        if description == nil, let defaults = published?.publishedNormalization {
            description = DataDescription(mean: defaults.mean, std: defaults.std, names: published?.builtInClassNames ?? [], outputs: spec.classes)
        }
        if let mean = spec.data.mean, let std = spec.data.std {
            description = DataDescription(mean: mean.map(Float.init), std: std.map(Float.init),
                                          names: description?.classes ?? published?.builtInClassNames ?? [], outputs: spec.classes)
        }
        if let file = classNamesFile {
            guard description != nil else {
                throw RuntimeError("--classes \(file): the model's normalisation is unknown too; set data.mean and data.std or use weights from resnetc run")
            }
            description!.classes = try ClassNames.read(file, classes: spec.classes)
        }
        guard let description, description.classes.count == spec.classes, description.mean.count == spec.input.channels else {
            if let description {
                throw RuntimeError("the weights' data description has \(description.classes.count) classes and \(description.mean.count) channels; "
                                   + "the spec has \(spec.classes) classes and \(spec.input.channels) input channels")
            }
            return nil
        }
        return description
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    /// The description in a safetensors file's metadata, nil when it has none (weights from PyTorch).
    public static func read(weights path: String) throws -> DataDescription? {
        let metadata = try SafeTensors.metadata(try FileBytes.read(path, what: "weights"), file: path)
        guard let text = metadata[metadataKey] else { return nil }
        let description: DataDescription
        do { description = try JSONDecoder().decode(DataDescription.self, from: Data(text.utf8)) } catch {
            throw RuntimeError("\(path): metadata '\(metadataKey)' is not a resnetc data description (mean, std, classes)")
        }
        try description.validate(file: path)
        return description
    }

    /// Refuses a description whose numbers could not have come from training.
    public func validate(file: String) throws {
        guard !mean.isEmpty, mean.count == std.count, mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw RuntimeError("\(file): the data description's mean \(mean) and std \(std) are not one finite mean and positive std per channel")
        }
    }
}
