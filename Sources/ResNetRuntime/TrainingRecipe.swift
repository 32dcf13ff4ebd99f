import Foundation
import ResNetSpec

/// Everything besides the network that decides which numbers a run computes: the seed, the
/// spec's training and data settings (with `--epochs` applied), the dataset and how many
/// training images it gave. A checkpoint stores it; `--resume` continues only when today's
/// recipe is the same, naming each key that differs, because a changed batch size, seed or
/// schedule would silently turn "resume" into a different run.
public struct TrainingRecipe: Sendable, Equatable {
    /// Key → value text, keys named as dotted paths (`train.batchSize`, `data.augment.pad`).
    public var values: [String: String]

    public init(values: [String: String]) { self.values = values }

    public init(spec: ModelSpec, settings: TrainSettings, seed: Int, dataset: DatasetSource, normalization: (mean: [Float], std: [Float]),
                trainingImages: Int) {
        var values: [String: String] = ["seed": String(seed), "dataset": dataset.kind.name, "training images": String(trainingImages)]
        Self.flatten(settings, prefix: "train", into: &values)
        Self.flatten(spec.data, prefix: "data", into: &values)
        values["normalization"] = "mean \(normalization.mean), std \(normalization.std)"
        self.values = values
    }

    /// One line per key, sorted: the checkpoint's `recipe` metadata.
    public var serialized: String {
        values.keys.sorted().map { "\($0)=\(values[$0]!)" }.joined(separator: "\n")
    }

    public init(serialized text: String, file: String) throws {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else {
                throw RuntimeError("\(file): metadata 'recipe' has a malformed line '\(line.prefix(80))'")
            }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard values["seed"] != nil else { throw RuntimeError("\(file): metadata 'recipe' is missing or has no seed") }
        self.values = values
    }

    /// Keys added after checkpoints were first written, with the value a checkpoint that lacks
    /// them was trained with.
    static let introducedLater = ["train.syncBatchNorm": "false"]

    /// Refuses to continue `saved` with this recipe, naming every key that differs.
    public func requireSame(as saved: TrainingRecipe, checkpoint: String) throws {
        let keys = Set(values.keys).union(saved.values.keys).sorted()
        func savedValue(_ key: String) -> String? { saved.values[key] ?? Self.introducedLater[key] }
        let differences = keys.filter { values[$0] != savedValue($0) }.map {
            "  \($0): \(savedValue($0) ?? "absent") in the checkpoint, \(values[$0] ?? "absent") now"
        }
        guard differences.isEmpty else {
            throw RuntimeError("cannot resume \(checkpoint): the run would not continue the one it saved:\n"
                               + differences.joined(separator: "\n")
                               + "\nresume with the options and --set overrides that started it, or start over with --restart")
        }
    }

    /// Records every leaf of a settings value (struct fields, optionals, enums with their payloads).
    private static func flatten(_ value: Any, prefix: String, into values: inout [String: String]) {
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .struct?:
            for child in mirror.children {
                flatten(child.value, prefix: prefix + "." + (child.label ?? "?"), into: &values)
            }
        case .optional?:
            if let some = mirror.children.first { flatten(some.value, prefix: prefix, into: &values) } else { values[prefix] = "none" }
        default:
            values[prefix] = String(describing: value)
        }
    }
}
