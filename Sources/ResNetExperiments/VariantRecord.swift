import Foundation
import ResNetRuntime

/// `variant.json` in a variant's directory: what the variant is (its name, its overrides, what
/// differs from the base spec) and how its run ended. Written atomically when the run starts and
/// when it ends, so an interrupted ablation knows what to skip, resume or retry.
public struct VariantRecord: Codable, Sendable, Equatable {
    public static let fileName = "variant.json"
    /// The variant's own spec, written next to its results: `resnetc run spec.yaml` re-runs it.
    public static let specName = "spec.yaml"

    /// How far the variant's run got.
    public enum Status: String, Codable, Sendable {
        case running, finished, failed
    }

    public var name: String
    /// Every `--set` of the variant, shared ones first.
    public var overrides: [String]
    /// `key=value` for each spec value that differs from the base spec's.
    public var differences: [String]
    /// The `resnetc ablate` options its run was made with (`--epochs 4`, `--limit 512`, …).
    public var runOptions: [String]
    public var status: Status
    /// Why it failed.
    public var message: String?

    enum CodingKeys: String, CodingKey {
        case name, overrides, differences, status, message
        case runOptions = "run_options"
    }

    public init(name: String, overrides: [String], differences: [String], runOptions: [String], status: Status, message: String? = nil) {
        self.name = name
        self.overrides = overrides
        self.differences = differences
        self.runOptions = runOptions
        self.status = status
        self.message = message
    }

    /// The record in `directory`, or nil if it has none.
    public static func read(directory: String) throws -> VariantRecord? {
        let path = directory + "/" + fileName
        return try RecordFile.read(VariantRecord.self, path: path, what: "variant record", limit: 1 << 20,
                                   failure: { "\(path) is not a variant record resnetc can read (\($0)); move it away to run the variant again" })
    }

    public func write(directory: String) throws { try RecordFile.write(self, to: directory + "/" + Self.fileName) }
}
