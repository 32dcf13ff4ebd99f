import ArgumentParser
import Foundation
import ResNetExperiments
import ResNetRuntime

/// `resnetc report DIR…`: the results table and curves again, from the metrics of ablations and
/// of plain `resnetc run` directories, finished or still running.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write results.md, results.csv and curves.svg from ablation or run directories (finished or running).")

    @Argument(help: "Ablation directories (from resnetc ablate) and run directories (from resnetc run).")
    var directories: [String]

    @Option(help: "Where to write the results (default: the directory, when one is given).")
    var out: String?

    @Option(help: "The title above the table and the plot.")
    var title: String?

    func validate() throws {
        if directories.isEmpty { throw ValidationError("give at least one ablation or run directory") }
    }

    func run() throws {
        do {
            var runs: [RunSummary] = []
            var ablationTitle: String?
            for directory in directories {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                    throw RuntimeError("'\(directory)' is not a directory")
                }
                if let plan = try AblationPlan.read(directory: directory) {
                    var variants = try Ablation.summaries(of: directory)
                    // Variants of several ablations may share names: each says whose it is.
                    if directories.count > 1 {
                        for i in variants.indices { variants[i].name = URL(fileURLWithPath: directory).lastPathComponent + "/" + variants[i].name }
                    }
                    runs += variants
                    ablationTitle = plan.title
                } else {
                    runs.append(try RunSummary.read(directory: directory))
                }
            }
            guard let destination = out ?? (directories.count == 1 ? directories[0] : nil) else {
                throw RuntimeError("give --out: the results of \(directories.count) directories need a directory of their own")
            }
            try ResultsFiles.write(runs, to: destination, title: title ?? (directories.count == 1 ? ablationTitle : nil) ?? directories.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: ", "))
            print("\(runs.count) run\(runs.count == 1 ? "" : "s"): \(destination)/\(ResultsFiles.markdownName), \(ResultsFiles.csvName), \(ResultsFiles.curvesName)")
        } catch { throw fail(error) }
    }
}
