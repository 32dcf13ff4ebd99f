/// Turns diagnostics into text for a person (with the source line and a caret) or for a CI
/// system (GitHub Actions workflow commands).
public struct DiagnosticRenderer: Sendable {
    /// The output dialects `resnetc check --format` offers.
    public enum Format: String, Sendable, CaseIterable {
        case text, github
    }

    public var format: Format
    /// Source text by file name, used to quote the offending line; missing files are not quoted.
    public var sources: [String: String]

    public init(format: Format = .text, sources: [String: String] = [:]) {
        self.format = format
        self.sources = sources
    }

    public func render(_ diagnostic: Diagnostic) -> String { render([diagnostic]) }

    /// Every diagnostic, one after another; each source is split into lines once, however many
    /// diagnostics quote it (a spec with thousands of errors renders in linear time).
    public func render(_ diagnostics: [Diagnostic]) -> String {
        var linesByFile: [String: [Substring]] = [:]
        return diagnostics.map { d in
            switch format {
            case .text:
                let text = d.location.flatMap { loc -> String? in
                    if linesByFile[loc.file] == nil, let source = sources[loc.file] {
                        linesByFile[loc.file] = source.split(separator: "\n", omittingEmptySubsequences: false)
                    }
                    guard let lines = linesByFile[loc.file], loc.line >= 1, loc.line <= lines.count else { return nil }
                    let line = lines[loc.line - 1]
                    return String(line.hasSuffix("\r") ? line.dropLast() : line)
                }
                return renderText(d, quoting: text)
            case .github:
                return renderGitHub(d)
            }
        }.joined(separator: "\n")
    }

    private func renderText(_ d: Diagnostic, quoting text: String?) -> String {
        var lines = [d.description]
        if let loc = d.location, let text {
            lines.append("    " + text)
            let pad = String(text.prefix(max(0, loc.column - 1)).map { $0 == "\t" ? "\t" : " " })
            lines.append("    " + pad + "^")
        }
        if let hint = d.hint { lines.append("  hint: " + hint) }
        return lines.joined(separator: "\n")
    }

    /// `::error file=F,line=L,col=C::message` as GitHub Actions reads it; properties and message
    /// are escaped as the workflow-command syntax requires.
    private func renderGitHub(_ d: Diagnostic) -> String {
        var properties: [String] = []
        if let loc = d.location {
            properties.append("file=" + escapeProperty(loc.file))
            properties.append("line=\(loc.line)")
            properties.append("col=\(loc.column)")
        }
        var message = d.message
        if let hint = d.hint { message += " (hint: \(hint))" }
        let head = properties.isEmpty ? "::\(d.severity.rawValue)" : "::\(d.severity.rawValue) " + properties.joined(separator: ",")
        return head + "::" + escapeData(message)
    }

    private func escapeData(_ s: String) -> String {
        s.replacing("%", with: "%25").replacing("\r", with: "%0D").replacing("\n", with: "%0A")
    }

    private func escapeProperty(_ s: String) -> String {
        escapeData(s).replacing(":", with: "%3A").replacing(",", with: "%2C")
    }
}
