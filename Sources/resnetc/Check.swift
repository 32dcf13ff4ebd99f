import ArgumentParser
import ResNetDiagnostics
import ResNetPasses
import ResNetSpec

/// `resnetc check FILE...`: validates specs for CI, reporting every error of every file.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate specs; print every error as file:line:col: error: message, exit 1 on any.")

    @Argument(help: "Spec files to check.")
    var specs: [String]

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a spec key in every file, value read as YAML.", valueName: "key=value"))
    var overrides: [String] = []

    @Option(help: "Diagnostic format: text, or github for GitHub Actions annotations.")
    var format: DiagnosticRenderer.Format = .text

    func validate() throws {
        if specs.isEmpty { throw ValidationError("give at least one spec file") }
    }

    func run() throws {
        let parsed = try Overrides.parse(overrides, format: format)
        var failed = false
        for file in specs {
            let result = Pipeline.frontEnd(file: file, overrides: parsed)
            Diagnostics.print(result.diagnostics, sources: result.sources, format: format)
            failed = failed || result.hasErrors
        }
        if failed { throw ExitCode(1) }
        if format == .text { print("\(specs.count) spec\(specs.count == 1 ? "" : "s") OK") }
    }
}

extension DiagnosticRenderer.Format: ExpressibleByArgument {}
