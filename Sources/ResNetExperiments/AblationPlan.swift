import Foundation
import ResNetRuntime

/// `ablation.json` at the top of an ablation's directory: every variant directory the ablation
/// has run, in the order first asked for. Re-running with a changed grid appends the new ones,
/// so the table keeps the old results beside the new.
public struct AblationPlan: Codable, Sendable, Equatable {
    public static let fileName = "ablation.json"

    public var variants: [String]
    /// The title of its table and plot, from the latest command.
    public var title: String?

    public init(variants: [String], title: String?) {
        self.variants = variants
        self.title = title
    }

    /// The plan in `directory`, or nil if it is not an ablation's directory.
    public static func read(directory: String) throws -> AblationPlan? {
        let path = directory + "/" + fileName
        return try RecordFile.read(AblationPlan.self, path: path, what: "ablation plan", limit: 16 << 20, validate: { plan in
            if let bad = plan.variants.first(where: { !AblationGrid.isDirectoryName($0) }) {
                throw RuntimeError("lists '\(bad)', which is not a variant directory's name")
            }
        }, failure: { "\(path) is not an ablation plan resnetc can read (\($0))" })
    }

    /// This plan with `names` added after the ones it has, and the new title.
    public func adding(_ names: [String], title: String) -> AblationPlan {
        AblationPlan(variants: variants + names.filter { !variants.contains($0) }, title: title)
    }

    public func write(directory: String) throws { try RecordFile.write(self, to: directory + "/" + Self.fileName) }
}
