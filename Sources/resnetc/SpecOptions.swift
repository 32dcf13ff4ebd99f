import ArgumentParser
import Foundation
import ResNetDiagnostics
import ResNetPasses
import ResNetSpec

/// The spec file and `--set` overrides every spec-reading subcommand takes.
struct SpecOptions: ParsableArguments {
    @Argument(help: "The model spec (YAML).")
    var spec: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a spec key, value read as YAML.", valueName: "key=value"))
    var overrides: [String] = []

    /// Runs the front end, printing diagnostics to stderr; exits 1 if any is an error.
    func frontEnd(withLoss: Bool = false) throws -> Pipeline.FrontEndResult {
        let parsed = try Overrides.parse(overrides)
        let result = Pipeline.frontEnd(file: spec, overrides: parsed, withLoss: withLoss)
        Diagnostics.print(result.diagnostics, sources: result.sources, format: .text)
        if result.hasErrors || result.graph == nil { throw ExitCode(1) }
        return result
    }
}

/// Parses `--set` texts, printing every malformed one and exiting 1 if there are any.
enum Overrides {
    static func parse(_ texts: [String], format: DiagnosticRenderer.Format = .text) throws -> [SpecOverride] {
        var parsed: [SpecOverride] = []
        var problems: [Diagnostic] = []
        for text in texts {
            do { parsed.append(try SpecOverride(text)) } catch { problems += error.diagnostics }
        }
        guard problems.isEmpty else {
            let sources = Dictionary(texts.map { ("--set \($0)", "--set \($0)") }) { a, _ in a }
            Diagnostics.print(problems, sources: sources, format: format)
            throw ExitCode(1)
        }
        return parsed
    }
}

/// Writes diagnostics to standard error.
enum Diagnostics {
    static func print(_ diagnostics: [Diagnostic], sources: [String: String], format: DiagnosticRenderer.Format) {
        guard !diagnostics.isEmpty else { return }
        let text = DiagnosticRenderer(format: format, sources: sources).render(diagnostics) + "\n"
        FileHandle.standardError.write(Data(text.utf8))
    }
}
