import ArgumentParser
import Foundation
import ResNetExperiments
import ResNetRuntime

/// `resnetc ablate SPEC --vary KEY=V1,V2 …` (or `resnetc ablate a.yaml b.yaml …`): trains every
/// variant one after another and writes the table and the curves.
struct Ablate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train variants of a spec (the cross product of --vary lists, or several spec files) and tabulate and plot them.",
        discussion: """
            Each variant trains into --out/<variant>/ exactly as `resnetc run` would, with its spec written there as spec.yaml. \
            Re-running the same command skips finished variants and resumes an interrupted one; a changed grid adds its new \
            variants. results.md, results.csv and curves.svg in --out are rewritten after every variant.
            """)

    @Argument(help: "The base spec, or with several files and no --vary, one spec per variant.")
    var specs: [String]

    @Option(help: ArgumentHelp("A key and the values it takes, e.g. shortcut=A,B or 'stages[0].blocks=3,5'; several --vary form a cross product.",
                               valueName: "key=v1,v2"))
    var vary: [String] = []

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a spec key in every variant, value read as YAML.", valueName: "key=value"))
    var overrides: [String] = []

    @OptionGroup var model: ModelOptions
    @OptionGroup var data: DataOptions

    @OptionGroup var length: RunLengthOptions

    @Option(help: "Directory for the variants' runs and the results (default: runs/ablate-<spec name>).")
    var out: String?

    @Flag(help: "Run again, from the start, the variants an earlier sitting recorded as failed.")
    var retryFailed = false

    func validate() throws {
        if specs.isEmpty { throw ValidationError("give a spec with --vary, or several spec files") }
        if specs.count > 1, !vary.isEmpty { throw ValidationError("--vary varies one spec: give one spec file with it, or several spec files without it") }
        if specs.count == 1, vary.isEmpty { throw ValidationError("nothing to vary: give --vary KEY=V1,V2 or several spec files") }
    }

    func run() throws {
        _ = try Overrides.parse(overrides)
        let interactive = isatty(STDOUT_FILENO) == 1
        do {
            let grid = vary.isEmpty ? AblationGrid(specFiles: specs) : try AblationGrid(spec: specs[0], vary: vary)
            let baseName = URL(fileURLWithPath: specs[0]).deletingPathExtension().lastPathComponent
            let directory = out ?? "runs/ablate-\(Artifact.directoryName(for: baseName))"
            let title = vary.isEmpty ? specs.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: " vs ")
                : "\(baseName): " + vary.joined(separator: " × ")
            var settings = Ablation.Settings(directory: directory, sharedOverrides: overrides, dataset: data.dataset, epochs: length.epochs,
                                             limit: length.limit, testLimit: length.testLimit, threads: data.threads, seed: model.seed,
                                             weights: model.weights, retryFailed: retryFailed, title: title)
            settings.datasetOptions = data.sourceOptions
            let group = try ProcessGroup.current()
            let ablation = Ablation(grid: grid, settings: settings, compiler: try model.compiler(), initialWeights: model.parameterValues, group: group)
            var lastPlain = Date.distantPast
            let runs = try ablation.run { line, final in
                if group.isLeader {
                    StatusLine.show(line, final: final, interactive: interactive, lastPlain: &lastPlain)
                } else if line.contains(" failed: ") {
                    FileHandle.standardError.write(Data("resnetc: rank \(group.rank) of \(group.size): \(line)\n".utf8))
                }
            }
            if group.isLeader {
                print("\(runs.count) variant\(runs.count == 1 ? "" : "s") (\(ablation.failures) failed): \(directory)/\(ResultsFiles.markdownName), "
                      + "\(ResultsFiles.csvName), \(ResultsFiles.curvesName)")
            }
            group.finish()
            if ablation.failures > 0 { throw ExitCode(1) }
        } catch let exit as ExitCode { throw exit } catch {
            stopEveryRank(after: error, checkpoint: nil)
            throw fail(error)
        }
    }
}
