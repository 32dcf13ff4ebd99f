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

    public func render(_ diagnostic: Diagnostic) -> String {
        switch format {
        case .text: return renderText(diagnostic)
        case .github: return renderGitHub(diagnostic)
        }
    }

    public func render(_ diagnostics: [Diagnostic]) -> String {
        diagnostics.map(render).joined(separator: "\n")
    }

    private func renderText(_ d: Diagnostic) -> String {
        var lines = [d.description]
        if let loc = d.location, let source = sources[loc.file], let text = line(loc.line, of: source) {
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

    private func line(_ number: Int, of source: String) -> String? {
        var current = 1
        for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == number { return String(line.hasSuffix("\r") ? line.dropLast() : line) }
            current += 1
        }
        return nil
    }
}
