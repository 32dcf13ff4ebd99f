import Foundation
import ResNetDiagnostics
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
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            let plan = try JSONDecoder().decode(AblationPlan.self, from: try FileBytes.read(path, what: "ablation plan", limit: 16 << 20))
            if let bad = plan.variants.first(where: { !AblationGrid.isDirectoryName($0) }) {
                throw RuntimeError("lists '\(bad)', which is not a variant directory's name")
            }
            return plan
        } catch {
            throw RuntimeError("\(path) is not an ablation plan resnetc can read (\((error as? RuntimeError)?.message ?? "\(error)"))")
        }
    }

    /// This plan with `names` added after the ones it has, and the new title.
    public func adding(_ names: [String], title: String) -> AblationPlan {
        AblationPlan(variants: variants + names.filter { !variants.contains($0) }, title: title)
    }

    public func write(directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self) + Data("\n".utf8), to: directory + "/" + Self.fileName)
    }
}
