import Foundation
import ResNetDiagnostics
import ResNetIR
import ResNetPasses
import ResNetRuntime
import ResNetSpec

/// Runs an ablation grid one variant after another into `DIR/<variant>/`: each variant's spec
/// written there as spec.yaml (re-runnable alone with `resnetc run`), its run resumed from its
/// checkpoint if an earlier sitting was interrupted, skipped if it finished, recorded as failed
/// with its message if it fails (the others still run), and the results table and curves
/// rewritten after every variant.
public final class Ablation {
    /// The options every variant's run shares, as `resnetc run` takes them.
    public struct Settings {
        public var directory: String
        /// `--set` texts applied to every variant before its own.
        public var sharedOverrides: [String]
        public var dataset: String?
        public var epochs: Int?
        public var limit: Int?
        public var testLimit: Int?
        public var threads: Int?
        public var seed: Int?
        /// Initial weights for every variant (without them, He initialisation from the seed).
        public var weights: String?
        /// Run variants recorded as failed again (by default they are skipped with their message).
        public var retryFailed: Bool
        public var title: String
        /// How the dataset is read (class names, bad images, decoding threads, cache).
        public var datasetOptions = DatasetSource.Options()

        /// The options that shape a variant's run (not its speed): a finished variant is kept
        /// only when they are the same.
        var runOptions: [String] {
            [("--dataset", dataset), ("--epochs", epochs.map(String.init)), ("--limit", limit.map(String.init)),
             ("--test-limit", testLimit.map(String.init)), ("--seed", seed.map(String.init)), ("--weights", weights)].compactMap { flag, value in value.map { "\(flag) \($0)" } }
        }

        public init(directory: String, sharedOverrides: [String], dataset: String?, epochs: Int?, limit: Int?, testLimit: Int?,
                    threads: Int?, seed: Int?, weights: String?, retryFailed: Bool, title: String) {
            self.directory = directory
            self.sharedOverrides = sharedOverrides
            self.dataset = dataset
            self.epochs = epochs
            self.limit = limit
            self.testLimit = testLimit
            self.threads = threads
            self.seed = seed
            self.weights = weights
            self.retryFailed = retryFailed
            self.title = title
        }
    }

    /// A variant resolved to its spec tree (nil with the message if its overrides or file are bad).
    struct Prepared {
        var variant: AblationGrid.Variant
        var tree: YAMLNode?
        var problem: String?
        var multiplyAdds: Double
    }

    public let grid: AblationGrid
    public let settings: Settings
    /// Variants that failed in the last `run`, or were refused or kept as failed.
    public private(set) var failures = 0
    let compiler: CCompiler
    let initialWeights: (Graph, ModelSpec) throws -> ParameterValues
    /// Under mpirun every rank trains every variant data-parallel; rank 0 alone writes records
    /// and results, and the ranks agree on each decision before acting on it.
    let group: ProcessGroup

    public init(grid: AblationGrid, settings: Settings, compiler: CCompiler, initialWeights: @escaping (Graph, ModelSpec) throws -> ParameterValues,
                group: ProcessGroup = .single) {
        self.grid = grid
        self.settings = settings
        self.compiler = compiler
        self.initialWeights = initialWeights
        self.group = group
    }

    /// What a sitting does with one variant, decided for all before the first trains.
    enum Decision {
        /// Leave it as it is and say why (a finished run, or one that failed before).
        case keep(String, failed: Bool)
        /// Leave it as it is: its directory holds a run this command must not touch.
        case refuse(String)
        /// Record it as failed without training (its spec or overrides are bad).
        case fail(String)
        /// Train it from `spec` (spec.yaml's text): from its checkpoint, or from the start (removing
        /// resnetc's files of a failed run).
        case train(mode: RunDirectory.Mode, spec: String)
    }

    /// Runs every variant; returns the summaries of all the ablation's runs (earlier grids' too).
    public func run(report: (String, Bool) -> Void) throws -> [RunSummary] {
        try group.agree {
            if group.isLeader { try AtomicFile.createDirectory(settings.directory) }
            try ResultsFiles.requireWritable(in: settings.directory) // before hours of training, not after
        }
        let prepared = grid.variants.map(prepare)
        // What differs is measured from the first spec file with the shared overrides only.
        let base = try grid.variants.first.map { first -> YAMLNode? in
            let shared = try settings.sharedOverrides.map { text throws in try SpecOverride(text) }
            return SpecLoader(overrides: shared).resolve(file: first.specFile).tree
        } ?? nil
        // Every rank decides from the same files before rank 0 writes anything this sitting.
        let decisions = try group.agree { prepared.map(decide) }
        try group.agree {
            guard group.isLeader else { return }
            try (AblationPlan.read(directory: settings.directory) ?? AblationPlan(variants: [], title: nil))
                .adding(grid.variants.map(\.directoryName), title: settings.title).write(directory: settings.directory)
        }
        // The overall ETA: seconds per multiply-add measured in this sitting, times the work left
        // (each variant to train weighs its multiply-adds per image, as if all ran as many iterations).
        var spentSeconds = 0.0, spentWork = 0.0
        var pending = zip(prepared, decisions).map { item, decision in
            if case .train = decision { return item.multiplyAdds }
            return 0
        }
        failures = 0
        for (index, (item, decision)) in zip(prepared, decisions).enumerated() {
            let variant = item.variant
            let directory = settings.directory + "/" + variant.directoryName
            let tag = "[\(index + 1)/\(prepared.count) \(variant.name)]"
            pending[index] = 0
            // What differs from the base: from the trees, or, for a spec that did not resolve, its overrides.
            let differences = item.tree.map { tree in base.map { SpecDifferences.between(base: $0, variant: tree) } ?? [] } ?? variant.overrides
            var entry = VariantRecord(name: variant.name, overrides: settings.sharedOverrides + variant.overrides, differences: differences,
                                      runOptions: settings.runOptions, status: .running)
            let mode: RunDirectory.Mode, specText: String
            switch decision {
            case .keep(let why, let failed):
                report("\(tag) \(why)", true)
                if failed { failures += 1 }
                // A kept run's record follows how this version of resnetc describes its differences.
                if group.isLeader, var record = try? VariantRecord.read(directory: directory), item.tree != nil, record.differences != differences {
                    record.differences = differences
                    try? record.write(directory: directory)
                }
                continue
            case .refuse(let why):
                report("\(tag) failed: \(why)", true)
                failures += 1
                continue
            case .fail(let why):
                if group.isLeader { try? AtomicFile.createDirectory(directory) }
                recordFailure(&entry, why, tag: tag, directory: directory, report: report)
                try writeResults()
                continue
            case .train(let how, let text):
                (mode, specText) = (how, text)
            }
            do {
                // Rank 0 writes the variant's record and spec.yaml; the others wait to read it.
                try group.agree {
                    guard group.isLeader else { return }
                    try AtomicFile.createDirectory(directory)
                    try entry.write(directory: directory)
                    try AtomicFile.write(Data(specText.utf8), to: directory + "/" + VariantRecord.specName)
                }
                let started = Date()
                let work = item.multiplyAdds
                var firstDone: Double?
                try train(specPath: directory + "/" + VariantRecord.specName, directory: directory, mode: mode) { progress in
                    let done = Double(progress.iteration) / Double(max(progress.total, 1))
                    if firstDone == nil { firstDone = done } // a resumed run starts part done
                    let workDone = spentWork + work * (done - firstDone!), workLeft = work * (1 - done) + pending.reduce(0, +)
                    var line = "\(tag) \(progress.line)"
                    if workDone > 0, !progress.final {
                        let rate = (spentSeconds + Date().timeIntervalSince(started)) / workDone
                        line += " | all: eta " + ResultsTable.duration(rate * workLeft)
                    }
                    report(line, progress.final)
                }
                spentSeconds += Date().timeIntervalSince(started)
                spentWork += work * (1 - (firstDone ?? 0))
                entry.status = .finished
                if group.isLeader { try entry.write(directory: directory) }
                report("\(tag) finished", true)
            } catch {
                recordFailure(&entry, (error as? RuntimeError)?.message ?? "\(error)", tag: tag, directory: directory, report: report)
            }
            try writeResults()
        }
        return try writeResults()
    }

    /// Says a variant failed and why, and records it in its directory (saying so if even that fails).
    private func recordFailure(_ entry: inout VariantRecord, _ message: String, tag: String, directory: String, report: (String, Bool) -> Void) {
        entry.status = .failed
        entry.message = message
        failures += 1
        report("\(tag) failed: \(message)", true)
        guard group.isLeader else { return }
        do { try entry.write(directory: directory) } catch {
            report("\(tag) its failure could not be recorded: \((error as? RuntimeError)?.message ?? "\(error)")", true)
        }
    }

    /// Keep, refuse, fail or train `item`, from what its directory holds.
    private func decide(_ item: Prepared) -> Decision {
        let directory = settings.directory + "/" + item.variant.directoryName
        let record: VariantRecord?
        do { record = try VariantRecord.read(directory: directory) } catch {
            return .refuse((error as? RuntimeError)?.message ?? "\(error)")
        }
        let specPath = directory + "/" + VariantRecord.specName
        let written = FileManager.default.fileExists(atPath: specPath) ? try? String(contentsOfFile: specPath, encoding: .utf8) : nil
        let text = item.tree.map(YAMLWriter.text)
        let sameSpec = text != nil && text == written
        let sameRun = sameSpec && record?.runOptions == settings.runOptions
        let hasRun = RunDirectory.runFiles.contains { FileManager.default.fileExists(atPath: directory + "/" + $0) }
        guard let text else {
            let why = item.problem ?? "the spec could not be read"
            // A bad spec this sitting must not mark an earlier run failed.
            return record != nil || hasRun ? .refuse(why + " (the run already in '\(directory)' is left as it is)") : .fail(why)
        }
        switch record?.status {
        case .finished? where sameRun: return .keep("finished earlier; kept", failed: false)
        case .failed? where sameRun && !settings.retryFailed:
            return .keep("failed earlier (\(record?.message ?? "no message")); kept (--retry-failed runs it again from the start)", failed: true)
        case .failed? where sameRun: return .train(mode: .restart, spec: text)
        default: break
        }
        if hasRun, !sameRun {
            let what = record == nil ? "that resnetc ablate did not start (it has no \(VariantRecord.fileName))"
                : !sameSpec ? (written == nil ? "without its \(VariantRecord.specName)" : "of another spec (its \(VariantRecord.specName) differs)")
                : "made with other options (\(record!.runOptions.isEmpty ? "none" : record!.runOptions.joined(separator: " ")))"
            return .refuse("'\(directory)' holds a run \(what); move it away or give another --out")
        }
        return .train(mode: FileManager.default.fileExists(atPath: directory + "/" + RunDirectory.checkpointName) ? .resume : .restart, spec: text)
    }

    /// The summaries of every variant the ablation's directory lists, written (by rank 0) as the results files.
    @discardableResult
    func writeResults() throws -> [RunSummary] {
        let runs = try Ablation.summaries(of: settings.directory)
        if group.isLeader { try ResultsFiles.write(runs, to: settings.directory, title: settings.title) }
        return runs
    }

    /// The runs of an ablation directory, in its plan's order (variants never started are left out).
    public static func summaries(of directory: String) throws -> [RunSummary] {
        let plan = try AblationPlan.read(directory: directory) ?? AblationPlan(variants: [], title: nil)
        return plan.variants.compactMap { name in
            let path = directory + "/" + name
            let started = FileManager.default.fileExists(atPath: path + "/" + VariantRecord.fileName)
                || FileManager.default.fileExists(atPath: path + "/" + RunDirectory.metricsName)
            guard started else { return nil }
            do { return try RunSummary.read(directory: path) } catch {
                return RunSummary.unreadable(directory: path, message: (error as? RuntimeError)?.message ?? "\(error)")
            }
        }
    }

    private func prepare(_ variant: AblationGrid.Variant) -> Prepared {
        let texts = settings.sharedOverrides + variant.overrides
        var overrides: [SpecOverride] = []
        var problems: [Diagnostic] = []
        var sources: [String: String] = [:]
        for text in texts {
            do { overrides.append(try SpecOverride(text)) } catch { problems += error.diagnostics; sources["--set \(text)"] = "--set \(text)" }
        }
        if problems.isEmpty {
            let resolved = SpecLoader(overrides: overrides).resolve(file: variant.specFile)
            problems = resolved.diagnostics
            sources = resolved.sources
            if problems.isEmpty, let tree = resolved.tree {
                // Validated now, so a bad value fails this variant before anything runs.
                let decoded = SpecLoader().decode(tree, defaultName: URL(fileURLWithPath: variant.specFile).deletingPathExtension().lastPathComponent)
                if decoded.diagnostics.contains(where: { $0.severity == .error }) {
                    problems = decoded.diagnostics.filter { $0.severity == .error }
                } else if let spec = decoded.spec, let graph = try? LowerSpec.lower(spec, withLoss: false) {
                    return Prepared(variant: variant, tree: tree, problem: nil, multiplyAdds: Double(ModelSummary(graph: graph).macs))
                } else {
                    return Prepared(variant: variant, tree: tree, problem: nil, multiplyAdds: 1)
                }
            }
        }
        let message = DiagnosticRenderer(format: .text, sources: sources).render(problems)
        return Prepared(variant: variant, tree: nil, problem: message.isEmpty ? "the spec could not be read" : message, multiplyAdds: 0)
    }

    /// One variant's run, exactly as `resnetc run spec.yaml --out directory` with the shared options would do it.
    private func train(specPath: String, directory: String, mode: RunDirectory.Mode, report: (Trainer.Progress) -> Void) throws {
        let front = Pipeline.frontEnd(file: specPath, withLoss: true)
        guard let spec = front.spec, let graph = front.graph else {
            throw RuntimeError(DiagnosticRenderer(format: .text, sources: front.sources).render(front.diagnostics))
        }
        let source = try DatasetSource.resolve(argument: settings.dataset, spec: spec, options: settings.datasetOptions)
        let trainer = try Trainer(spec: spec, forward: graph,
                                  options: .init(outputDirectory: directory, epochs: settings.epochs, limit: settings.limit, testLimit: settings.testLimit,
                                                 mode: mode, threads: settings.threads, seed: settings.seed ?? spec.seed),
                                  compiler: compiler)
        _ = try trainer.run(initial: try initialWeights(graph, spec), source: source, report: report)
    }
}
